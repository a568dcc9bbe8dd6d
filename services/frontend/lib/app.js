'use strict';

const path = require('node:path');
const crypto = require('node:crypto');
const express = require('express');
const { createHubProxy, sendJsonError } = require('./proxy');
const { probeHub } = require('./health');
const { publicHubUrl } = require('./config');
const pkg = require('../package.json');

const PUBLIC_DIR = path.join(__dirname, '..', 'public');
const REQUEST_ID_RE = /^[A-Za-z0-9._:@\-]{1,128}$/;

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Builds the express app. Returns { app, streams, close }: `streams` holds the event
 * streams currently being relayed (so shutdown can end them), `close` releases the
 * proxy's sockets.
 */
function createApp(config, { logger }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', 'strong');

  const startedAt = Date.now();
  const streams = new Set();

  // request id + one JSON log line per request
  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : crypto.randomUUID();
    req.headers['x-request-id'] = req.id;
    res.setHeader('X-Request-ID', req.id);
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      const pathname = (req.originalUrl || req.url || '').split('?')[0];
      if (pathname === '/health' && res.statusCode === 200 && config.logLevel !== 'debug') return;
      logger.info('request', {
        request_id: req.id,
        method: req.method,
        path: pathname,
        status: res.statusCode,
        duration_ms: durationMs,
        proxied: Boolean(req._skyrasProxied),
        completed: res.writableFinished,
        bytes_in: Number(req.headers['content-length']) || undefined,
        remote_addr: req.socket && req.socket.remoteAddress,
      });
    });
    next();
  });

  // /api/v2/* goes to the hub, untouched: mounted before anything that could read a body
  const proxy = createHubProxy({
    config,
    logger,
    onStream: (req, res) => {
      streams.add(res);
      res.once('close', () => streams.delete(res));
    },
  });
  app.use(proxy.middleware);

  app.get('/health', async (req, res) => {
    const hub = await probeHub(config.hubUrl, { timeoutMs: config.healthTimeoutMs });
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      status: hub.reachable && hub.ok ? 'ok' : 'degraded',
      service: 'frontend',
      version: pkg.version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      api_key_configured: Boolean(config.apiKey),
      hub: { url: publicHubUrl(config.hubUrl), ...hub },
    });
  });

  app.use((req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    next();
  });

  app.use(express.static(PUBLIC_DIR, {
    index: 'index.html',
    extensions: false,
    dotfiles: 'ignore',
    setHeaders(res) {
      res.setHeader('Cache-Control', 'no-cache');
    },
  }));

  app.use((req, res) => {
    sendJsonError(res, 404, 'not_found', `Nothing at ${req.method} ${req.path}`, { request_id: req.id });
  });

  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    logger.error('unhandled error', { request_id: req.id, error: err && err.message });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJsonError(res, err.status && err.status < 500 ? err.status : 500, 'internal_error',
      'The frontend server failed to handle this request.', { request_id: req.id });
  });

  return {
    app,
    streams,
    close() {
      proxy.agent.destroy();
    },
  };
}

module.exports = { createApp, PUBLIC_DIR };
