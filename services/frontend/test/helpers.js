'use strict';

// Test helpers: a stand-in hub (a plain Node http server) and the frontend, both on port 0.

const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Writable } = require('node:stream');
const { start } = require('../server');
const { loadConfig } = require('../lib/config');
const { createLogger } = require('../lib/logger');

function listen(server, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/** A stand-in hub. `handler(req, res)` answers; requests are recorded in `requests`. */
async function startUpstream(handler) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound then released). */
async function freePort() {
  const server = http.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function captureStream() {
  const lines = [];
  const stream = new Writable({
    write(chunk, enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
      cb();
    },
  });
  stream.lines = lines;
  stream.text = () => lines.join('\n');
  return stream;
}

/** The frontend in this process, logs captured. */
async function startFrontend(env = {}, overrides = {}) {
  const config = loadConfig({ SKYRAS_FRONTEND_PORT: '0', ...env }, overrides);
  const logs = captureStream();
  const logger = createLogger({ level: 'debug', stream: logs, secrets: [] });
  const fe = await start({ config, logger });
  return { ...fe, logs };
}

/** The frontend as a child process (`node server.js`), for memory, signal and log tests. */
function spawnFrontend(env = {}) {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'server.js')], {
    env: { PATH: process.env.PATH, SKYRAS_FRONTEND_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`frontend did not start: ${out} ${err}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/"msg":"listening","url":"(http:\/\/[^"]+)"/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`frontend exited with ${code}: ${out} ${err}`));
    });
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    ready,
    exited,
    stdout: () => out,
    stderr: () => err,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Peak and current resident memory of a process, in bytes (Linux /proc). */
function memoryOf(pid) {
  const fs = require('node:fs');
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Plain http request returning { status, headers, body(Buffer) }. */
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

module.exports = {
  startUpstream, startFrontend, spawnFrontend, freePort, request, readBody, memoryOf, captureStream,
};
