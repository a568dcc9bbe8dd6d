'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startUpstream, startFrontend, freePort, request } = require('./helpers');

test('hub down: 502 JSON hub_unavailable, fast, for every kind of request', async (t) => {
  const port = await freePort();
  const fe = await startFrontend({ SKYRAS_HUB_URL: `http://127.0.0.1:${port}` });
  t.after(() => fe.stop());

  for (const [method, url, body] of [
    ['GET', '/api/v2/agents/status'],
    ['POST', '/api/v2/chat', JSON.stringify({ message: 'hello' })],
    ['GET', '/api/v2/events/stream'],
    ['POST', '/api/v2/agents/letitia/upload', crypto.randomBytes(4 * 1024 * 1024)],
  ]) {
    const started = Date.now();
    const res = await request(fe.url + url, {
      method,
      headers: { 'x-request-id': 'down-1', ...(body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {}) },
      body,
    }).catch((err) => ({ err }));
    const elapsed = Date.now() - started;
    assert.ok(!res.err, `${method} ${url}: ${res.err && res.err.message}`);
    assert.equal(res.status, 502, `${method} ${url}`);
    assert.match(res.headers['content-type'], /^application\/json/);
    const json = JSON.parse(res.body);
    assert.equal(json.error.code, 'hub_unavailable');
    assert.equal(typeof json.error.message, 'string');
    assert.equal(json.error.details.reason, 'ECONNREFUSED');
    assert.equal(json.error.details.hub_url, `http://127.0.0.1:${port}`);
    assert.equal(json.error.details.request_id, 'down-1');
    assert.ok(elapsed < 1000, `${method} ${url} took ${elapsed} ms`);
  }
});

test('hub down: a hub that takes the request but never answers is a 504 hub_timeout', async (t) => {
  const hub = await startUpstream(() => { /* never answers */ });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url, SKYRAS_FRONTEND_RESPONSE_TIMEOUT_MS: '300' });
  t.after(async () => { await fe.stop(); await hub.close(); });
  const started = Date.now();
  const res = await request(`${fe.url}/api/v2/agents/status`);
  assert.equal(res.status, 504);
  assert.equal(JSON.parse(res.body).error.code, 'hub_timeout');
  assert.ok(Date.now() - started < 2000);
});

test('hub down: a hub that dies mid-stream cuts the response instead of hanging', async (t) => {
  const hub = await startUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: task.created\ndata: {}\n\n');
    setTimeout(() => req.socket.destroy(), 100);
  });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });
  const result = await request(`${fe.url}/api/v2/events/stream`).then(() => 'ended', (err) => `error: ${err.code || err.message}`);
  assert.ok(result === 'ended' || result.startsWith('error'), result);
});

test('/health: says whether the hub answers, and answers quickly either way', async (t) => {
  const hub = await startUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
  });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  const port = await freePort();
  const feDown = await startFrontend({ SKYRAS_HUB_URL: `http://user:pw@127.0.0.1:${port}` });
  t.after(async () => { await fe.stop(); await feDown.stop(); await hub.close(); });

  const up = await request(`${fe.url}/health`);
  assert.equal(up.status, 200);
  const upJson = JSON.parse(up.body);
  assert.equal(upJson.status, 'ok');
  assert.equal(upJson.service, 'frontend');
  assert.equal(upJson.hub.reachable, true);
  assert.equal(upJson.hub.ok, true);
  assert.equal(upJson.hub.url, hub.url);
  assert.equal(upJson.api_key_configured, false);
  assert.equal(hub.requests.at(-1).url, '/health');

  const started = Date.now();
  const down = await request(`${feDown.url}/health`);
  assert.ok(Date.now() - started < 1000);
  assert.equal(down.status, 200, 'the frontend itself is alive');
  const downJson = JSON.parse(down.body);
  assert.equal(downJson.status, 'degraded');
  assert.equal(downJson.hub.reachable, false);
  assert.equal(downJson.hub.error, 'ECONNREFUSED');
  assert.ok(!down.body.toString().includes('pw@'), 'credentials in the hub URL are not shown');
});
