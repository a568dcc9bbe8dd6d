'use strict';

const http = require('node:http');
const https = require('node:https');

/**
 * Asks the hub's /health whether it answers. Never throws; resolves within timeoutMs.
 */
function probeHub(hubUrl, { timeoutMs = 1500, agent } = {}) {
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
  return new Promise((resolve) => {
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ latency_ms: elapsed(), ...result });
    };
    let url;
    try {
      url = new URL(hubUrl.replace(/\/+$/, '') + '/health');
    } catch (err) {
      finish({ reachable: false, error: 'invalid hub URL' });
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { agent, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (body.length < 65536) body += chunk;
      });
      res.on('end', () => {
        let parsed = null;
        try {
          parsed = JSON.parse(body);
        } catch {
          /* not JSON: fine, the status code says enough */
        }
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        const result = { reachable: true, ok, http_status: res.statusCode };
        if (parsed && typeof parsed === 'object' && parsed.status) result.status = String(parsed.status);
        if (!ok) result.error = `hub /health answered ${res.statusCode}`;
        finish(result);
      });
      res.on('error', (err) => finish({ reachable: false, ok: false, error: err.code || err.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ reachable: false, ok: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err) => finish({ reachable: false, ok: false, error: err.code || err.message }));
  });
}

module.exports = { probeHub };
