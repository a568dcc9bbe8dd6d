'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startUpstream, startFrontend, spawnFrontend, request, readBody } = require('./helpers');
const { PUBLIC_DIR } = require('../lib/app');

const KEY = 'sk_test_9f8e7d6c5b4a-never-in-the-browser';

function listFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

test('API key: added server-side as a Bearer token, overriding anything the browser sends', async (t) => {
  const hub = await startUpstream(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url, SKYRAS_FRONTEND_API_KEY: KEY });
  t.after(async () => { await fe.stop(); await hub.close(); });

  await request(`${fe.url}/api/v2/agents/status`);
  await request(`${fe.url}/api/v2/chat`, { method: 'POST', headers: { authorization: 'Bearer forged', 'content-type': 'application/json' }, body: '{"message":"hi"}' });
  assert.equal(hub.requests.length, 2);
  for (const r of hub.requests) assert.equal(r.headers.authorization, `Bearer ${KEY}`);
});

test('API key: read from SKYRAS_FRONTEND_API_KEY_FILE (a volume Docker Compose fills)', async (t) => {
  const hub = await startUpstream(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'skyras-key-'));
  const file = path.join(dir, 'frontend');
  fs.writeFileSync(file, `${KEY}\n`);
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url, SKYRAS_FRONTEND_API_KEY_FILE: file });
  t.after(async () => { await fe.stop(); await hub.close(); fs.rmSync(dir, { recursive: true }); });

  await request(`${fe.url}/api/v2/agents/status`);
  assert.equal(hub.requests[0].headers.authorization, `Bearer ${KEY}`);
  assert.throws(
    () => require('../lib/config').loadConfig({ SKYRAS_FRONTEND_API_KEY_FILE: path.join(dir, 'none') }),
    /SKYRAS_FRONTEND_API_KEY_FILE cannot be read: ENOENT/,
  );
});

test('API key: never in a served file, a response or a log line', async (t) => {
  const hub = await startUpstream(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  });
  const fe = await startFrontend({ SKYRAS_HUB_URL: hub.url, SKYRAS_FRONTEND_API_KEY: KEY });
  t.after(async () => { await fe.stop(); await hub.close(); });

  const files = listFiles(PUBLIC_DIR);
  assert.ok(files.length >= 3, 'the UI has files');
  const urls = ['/', '/health', '/nope', '/api/v2/agents/status',
    ...files.map((f) => '/' + path.relative(PUBLIC_DIR, f).split(path.sep).join('/'))];
  for (const u of urls) {
    const res = await request(fe.url + u);
    const all = JSON.stringify(res.headers) + res.body.toString('latin1');
    assert.ok(!all.includes(KEY), `${u} exposes the key`);
    assert.ok(!all.includes('sk_test_'), `${u} exposes part of the key`);
  }
  const health = JSON.parse((await request(`${fe.url}/health`)).body);
  assert.equal(health.api_key_configured, true);
  assert.ok(!fe.logs.text().includes(KEY), 'the key is in the logs');
});

test('API key: a real `node server.js` does not print it, even at debug level', async (t) => {
  const hub = await startUpstream((req, res) => { res.writeHead(503); res.end(); });
  const fe = spawnFrontend({ SKYRAS_HUB_URL: hub.url, SKYRAS_FRONTEND_API_KEY: KEY, SKYRAS_FRONTEND_LOG_LEVEL: 'debug' });
  t.after(async () => { fe.kill(); await hub.close(); });
  const url = await fe.ready;
  await request(`${url}/api/v2/agents/status`);
  await request(`${url}/health`);
  fe.child.kill('SIGTERM');
  await fe.exited;
  assert.match(fe.stdout(), /"api_key_configured":true/);
  assert.ok(!fe.stdout().includes(KEY) && !fe.stderr().includes(KEY));
});
