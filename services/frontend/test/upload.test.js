'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { startUpstream, spawnFrontend, request, memoryOf } = require('./helpers');

const SIZE = (Number(process.env.UPLOAD_TEST_MIB) || 50) * 1024 * 1024; // 50 MiB, generated on the fly, never held whole
const CHUNK = 64 * 1024;
const hasProc = fs.existsSync('/proc/self/status');

test('upload: a 50 MiB multipart body streams through with the frontend\'s memory bounded', async (t) => {
  // the stand-in hub hashes what it receives and reads it slowly at first, as a real one may
  let firstByteAt = 0;
  let sentWhenHubResumed = -1;
  const hub = await startUpstream((req, res) => {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk) => {
      if (!firstByteAt) {
        firstByteAt = Date.now();
        // the hub stops reading for a while: a buffering proxy would swallow the whole body
        // meanwhile, a streaming one passes the back-pressure on to the browser
        req.pause();
        setTimeout(() => { sentWhenHubResumed = sent; req.resume(); }, 800);
      }
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), content_type: req.headers['content-type'] }));
    });
  });
  const fe = spawnFrontend({ SKYRAS_HUB_URL: hub.url });
  t.after(async () => { fe.kill(); await hub.close(); });
  const url = await fe.ready;
  // warm up (first request loads code paths) before taking the baseline
  await request(`${url}/api/v2/agents/status`);
  const before = hasProc ? memoryOf(fe.child.pid) : null;

  const boundary = '----skyras' + crypto.randomBytes(8).toString('hex');
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="tags"\r\n\r\nbig,test\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const expected = crypto.createHash('sha256');
  expected.update(head);
  let sent = 0;
  let headSent = false;
  let doneSendingAt = 0;
  const body = new Readable({
    read() {
      if (!headSent) { headSent = true; this.push(head); return; }
      if (sent >= SIZE) {
        expected.update(tail);
        this.push(tail);
        this.push(null);
        doneSendingAt = Date.now();
        return;
      }
      const n = Math.min(CHUNK, SIZE - sent);
      const chunk = Buffer.alloc(n, sent % 251);
      sent += n;
      expected.update(chunk);
      this.push(chunk);
    },
  });
  const res = await request(`${url}/api/v2/agents/letitia/upload`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + SIZE + tail.length,
    },
    body,
  });
  assert.equal(res.status, 201, res.body.toString());
  const got = JSON.parse(res.body);
  assert.equal(got.bytes, head.length + SIZE + tail.length);
  assert.equal(got.sha256, expected.digest('hex'));
  assert.match(got.content_type, /^multipart\/form-data; boundary=/);
  assert.ok(firstByteAt && firstByteAt < doneSendingAt, 'the hub got bytes before the browser finished sending');

  t.diagnostic(`sent by the browser while the hub was not reading: ${(sentWhenHubResumed / 1048576).toFixed(1)} MiB`);
  assert.ok(sentWhenHubResumed >= 0 && sentWhenHubResumed < 20 * 1024 * 1024,
    `the browser could push ${(sentWhenHubResumed / 1048576).toFixed(1)} MiB while the hub was not reading`);

  if (hasProc) {
    const after = memoryOf(fe.child.pid);
    const growth = after.peak - before.rss;
    t.diagnostic(`frontend RSS before ${(before.rss / 1048576).toFixed(1)} MiB, peak after ${(after.peak / 1048576).toFixed(1)} MiB`);
    // garbage from socket reads is collected lazily (~35 MiB whatever the size); buffering would be >= 50 MiB
    assert.ok(growth < 48 * 1024 * 1024, `peak RSS grew by ${(growth / 1048576).toFixed(1)} MiB for a 50 MiB upload`);
  }
});
