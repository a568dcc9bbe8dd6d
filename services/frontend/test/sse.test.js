'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { startUpstream, startFrontend } = require('./helpers');

function envelope(n) {
  return {
    id: `0190c0de-0000-7000-8000-00000000000${n}`,
    specversion: '1.0',
    type: 'task.created',
    source: '/agents/marcus',
    subject: `tasks/${n}`,
    time: new Date().toISOString(),
    data: { id: n, title: `task ${n}` },
    correlationid: `corr-${n}`,
  };
}

test('SSE: each event reaches the browser as soon as the hub writes it', async (t) => {
  let release;
  const released = new Promise((r) => { release = r; });
  let upstreamClosed = false;
  const hub = await startUpstream(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`event: task.created\nid: 1\ndata: ${JSON.stringify(envelope(1))}\n\n`);
    await released; // the hub holds the stream open until the test has seen event 1
    res.write(`event: task.created\nid: 2\ndata: ${JSON.stringify(envelope(2))}\n\n`);
    res.end();
    upstreamClosed = true;
  });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });

  const req = http.get(`${fe.url}/api/v2/events/stream`, { headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip, br' }, agent: false });
  const [res] = await once(req, 'response');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'], /^text\/event-stream/);
  assert.equal(res.headers['content-encoding'], undefined, 'never compressed');
  assert.equal(res.headers['x-accel-buffering'], 'no');
  assert.ok(res.headers['x-request-id']);
  res.setEncoding('utf8');

  let text = '';
  const events = [];
  const gotFirst = new Promise((resolve) => {
    res.on('data', (chunk) => {
      text += chunk;
      let i;
      while ((i = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, i);
        text = text.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        const type = (block.split('\n').find((l) => l.startsWith('event: ')) || '').slice(7);
        events.push({ type, data: JSON.parse(data), upstreamClosedWhenSeen: upstreamClosed });
        if (events.length === 1) resolve();
      }
    });
  });
  await Promise.race([gotFirst, new Promise((_, rej) => setTimeout(() => rej(new Error('first event not relayed while the hub kept the stream open')), 3000))]);
  assert.equal(events[0].type, 'task.created');
  assert.equal(events[0].data.id, envelope(1).id);
  assert.equal(events[0].upstreamClosedWhenSeen, false);
  release();
  await once(res, 'end');
  assert.equal(events.length, 2);
  assert.equal(events[1].data.subject, 'tasks/2');
});

test('SSE: a browser that goes away closes the hub side of the stream', async (t) => {
  let hubSideClosed;
  const closed = new Promise((r) => { hubSideClosed = r; });
  const hub = await startUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': connected\n\n');
    const tick = setInterval(() => res.write(': keep-alive\n\n'), 50);
    res.on('close', () => { clearInterval(tick); hubSideClosed(); });
  });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });

  const req = http.get(`${fe.url}/api/v2/events/stream`, { agent: false });
  const [res] = await once(req, 'response');
  await once(res, 'data');
  req.destroy();
  await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('hub stream left open')), 3000))]);
});
