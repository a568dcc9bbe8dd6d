'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startUpstream, startFrontend, request, readBody } = require('./helpers');

// A stand-in hub that echoes what it received.
function echoHub() {
  return startUpstream(async (req, res) => {
    const body = await readBody(req);
    if (req.url.startsWith('/api/v2/conflict')) {
      res.writeHead(409, { 'content-type': 'application/json', etag: '"7"' });
      res.end(JSON.stringify({ error: { code: 'version_conflict', message: 'stale', details: { current_version: 7 } } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-hub': 'yes' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
  });
}

test('proxy: methods, paths, query strings and bodies reach the hub unchanged', async (t) => {
  const hub = await echoHub();
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });

  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    const payload = method === 'GET' || method === 'OPTIONS' ? undefined : JSON.stringify({ title: `ünïcode ${method}`, n: 1 });
    const res = await request(`${fe.url}/api/v2/agents/marcus/tasks/42?status=pending&q=a%20b`, {
      method,
      headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      body: payload,
    });
    assert.equal(res.status, 200, method);
    assert.equal(res.headers['x-hub'], 'yes');
    const echoed = JSON.parse(res.body.toString('utf8'));
    assert.equal(echoed.method, method);
    assert.equal(echoed.url, '/api/v2/agents/marcus/tasks/42?status=pending&q=a%20b');
    assert.equal(echoed.body, payload || '');
    if (payload) assert.equal(echoed.headers['content-type'], 'application/json');
  }
  // the bare prefix is proxied too, look-alike paths are not
  const bare = await request(`${fe.url}/api/v2`);
  assert.equal(JSON.parse(bare.body).url, '/api/v2');
  const lookalike = await request(`${fe.url}/api/v2x/agents`);
  assert.equal(lookalike.status, 404);
  assert.equal(JSON.parse(lookalike.body).error.code, 'not_found');
  assert.equal(hub.requests.filter((r) => r.url.startsWith('/api/v2x')).length, 0);
});

test('proxy: hub status codes, error bodies and headers come back as they are', async (t) => {
  const hub = await echoHub();
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });

  const body = JSON.stringify({ status: 'completed' });
  const res = await request(`${fe.url}/api/v2/conflict/1`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', 'if-match': '"6"', 'content-length': Buffer.byteLength(body) },
    body,
  });
  assert.equal(res.status, 409);
  assert.equal(res.headers.etag, '"7"');
  assert.deepEqual(JSON.parse(res.body).error.details, { current_version: 7 });
  assert.equal(hub.requests[0].headers['if-match'], '"6"');
});

test('proxy: X-Request-ID is kept, or created, and X-Forwarded-* are added', async (t) => {
  const hub = await echoHub();
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });

  const kept = await request(`${fe.url}/api/v2/agents/status`, {
    headers: { 'x-request-id': 'req-abc-123', host: 'skyras.example:3000' },
  });
  const seen = JSON.parse(kept.body).headers;
  assert.equal(seen['x-request-id'], 'req-abc-123');
  assert.equal(kept.headers['x-request-id'], 'req-abc-123');
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(seen['x-forwarded-host'], 'skyras.example:3000');
  assert.equal(seen['x-forwarded-port'], '3000');
  assert.equal(seen.host, `127.0.0.1:${hub.port}`, 'Host is the hub (changeOrigin)');

  const created = await request(`${fe.url}/api/v2/agents/status`);
  const id = JSON.parse(created.body).headers['x-request-id'];
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(created.headers['x-request-id'], id);

  // a malformed id is replaced rather than forwarded
  const bad = await request(`${fe.url}/api/v2/agents/status`, { headers: { 'x-request-id': 'a b\u00e9'.repeat(3) } });
  assert.match(JSON.parse(bad.body).headers['x-request-id'], /^[0-9a-f-]{36}$/);

  // no API key configured: the browser's own Authorization passes through untouched
  const auth = await request(`${fe.url}/api/v2/agents/status`, { headers: { authorization: 'Bearer browser-token' } });
  assert.equal(JSON.parse(auth.body).headers.authorization, 'Bearer browser-token');
});

test('logs: one JSON line per request with its request id', async (t) => {
  const hub = await echoHub();
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { await fe.stop(); await hub.close(); });

  await request(`${fe.url}/api/v2/agents/status?q=secret-search`, { headers: { 'x-request-id': 'log-check-1' } });
  await request(`${fe.url}/`, { headers: { 'x-request-id': 'log-check-2' } });
  await new Promise((r) => setImmediate(r));
  const lines = fe.logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
  const one = lines.find((l) => l.request_id === 'log-check-1');
  assert.ok(one, fe.logs.text());
  assert.equal(one.method, 'GET');
  assert.equal(one.path, '/api/v2/agents/status');
  assert.equal(one.status, 200);
  assert.equal(one.proxied, true);
  assert.equal(typeof one.duration_ms, 'number');
  assert.ok(!fe.logs.text().includes('secret-search'), 'query strings are not logged');
  const two = lines.find((l) => l.request_id === 'log-check-2');
  assert.equal(two.proxied, false);
  assert.equal(lines.filter((l) => l.request_id === 'log-check-1').length, 1);
});
