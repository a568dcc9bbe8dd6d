'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { startUpstream, spawnFrontend, request } = require('./helpers');

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`shutdown: ${signal} ends open event streams, finishes in-flight requests and exits 0`, async (t) => {
    let slowDone;
    const hub = await startUpstream((req, res) => {
      if (req.url === '/api/v2/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': connected\n\n');
        return;
      }
      // a slow request that is in flight when the signal arrives
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"slow":true}');
        slowDone = true;
      }, 400);
    });
    const fe = spawnFrontend({ SKYRAS_HUB_URL: hub.url, SKYRAS_FRONTEND_SHUTDOWN_TIMEOUT_MS: '5000' });
    t.after(async () => { fe.kill(); await hub.close(); });
    const url = await fe.ready;

    const sse = http.get(`${url}/api/v2/events/stream`, { agent: false });
    const [res] = await once(sse, 'response');
    await once(res, 'data');
    const streamEnded = new Promise((resolve) => { res.on('end', resolve); res.on('close', resolve); });
    const slow = request(`${url}/api/v2/slow`);
    await new Promise((r) => setTimeout(r, 100));

    const started = Date.now();
    fe.child.kill(signal);
    const slowRes = await slow;
    assert.equal(slowRes.status, 200, 'the in-flight request completed');
    assert.ok(slowDone);
    await streamEnded;
    const { code } = await fe.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 4000, 'exited well before the shutdown timeout');
    assert.match(fe.stdout(), /"msg":"shutting down","reason":"SIG(TERM|INT)"/);
    assert.match(fe.stdout(), /"msg":"stopped"/);
  });
}
