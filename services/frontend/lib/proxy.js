'use strict';

const http = require('node:http');
const https = require('node:https');
const { createProxyMiddleware } = require('http-proxy-middleware');
const { publicHubUrl } = require('./config');

const API_PREFIX = '/api/v2';

function isApiPath(pathname) {
  return pathname === API_PREFIX || pathname.startsWith(API_PREFIX + '/');
}

function sendJsonError(res, status, code, message, details) {
  const body = JSON.stringify({ error: { code, message, details } });
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'EPIPE', 'ECONNECTTIMEOUT', 'ECONNABORTED', 'ERR_SOCKET_CLOSED',
]);

/**
 * The /api/v2 proxy to the hub. Bodies are piped both ways (never buffered): uploads stream
 * to the hub as they arrive, server-sent events reach the browser as the hub writes them.
 *
 * - keeps (or assigns, see app.js) X-Request-ID and adds X-Forwarded-For/-Host/-Port/-Proto;
 * - with an API key configured, sets `Authorization: Bearer <key>` on the way to the hub only;
 * - a hub that cannot be reached answers 502 `hub_unavailable` (connect timeout included),
 *   a hub that accepts the request but never answers answers 504 `hub_timeout`.
 */
function createHubProxy({ config, logger, onStream }) {
  const target = new URL(config.hubUrl);
  const hubForHumans = publicHubUrl(config.hubUrl);
  // No keep-alive to the hub: a reused socket to a hub pod that is shutting down (a
  // rolling upgrade) can be closed under a request, a 502 for the user; a fresh
  // connection goes to a pod the Service still lists. Inside a cluster it costs little.
  const agent = target.protocol === 'https:'
    ? new https.Agent({ keepAlive: false, maxSockets: 256 })
    : new http.Agent({ keepAlive: false, maxSockets: 256 });

  function attach(proxyServer) {
    proxyServer.on('proxyReq', (proxyReq, req, res) => {
      req._skyrasProxyReq = proxyReq;
      if (config.apiKey) proxyReq.setHeader('Authorization', `Bearer ${config.apiKey}`);

      const timers = [];
      const clear = () => timers.forEach(clearTimeout);
      const fail = (code, message) => {
        const err = new Error(message);
        err.code = code;
        proxyReq.destroy(err);
      };
      const socket = proxyReq.socket;
      if (socket && socket.connecting && config.connectTimeoutMs > 0) {
        timers.push(setTimeout(() => fail('ECONNECTTIMEOUT', `no connection to the hub within ${config.connectTimeoutMs} ms`), config.connectTimeoutMs));
        socket.once('connect', clear);
      }
      if (config.responseTimeoutMs > 0) {
        proxyReq.once('finish', () => {
          timers.push(setTimeout(() => fail('ERESPONSETIMEOUT', `the hub did not answer within ${config.responseTimeoutMs} ms`), config.responseTimeoutMs));
        });
      }
      proxyReq.once('response', clear);
      proxyReq.once('close', clear);
      // the browser went away (closed an event stream, cancelled an upload): stop the hub side too
      res.once('close', () => {
        if (!res.writableFinished) proxyReq.destroy();
      });
    });

    proxyServer.on('proxyRes', (proxyRes, req, res) => {
      req._skyrasProxied = true;
      // the hub hung up mid-response: cut the browser's response short too (never a hang)
      proxyRes.once('close', () => {
        if (!proxyRes.complete && !res.writableEnded) res.destroy();
      });
      const headers = proxyRes.headers;
      if (!headers['x-request-id']) headers['x-request-id'] = req.id;
      const contentType = String(headers['content-type'] || '');
      if (contentType.startsWith('text/event-stream')) {
        // tell any buffering reverse proxy in front of us to stay out of the way
        headers['cache-control'] = headers['cache-control'] || 'no-cache, no-transform';
        headers['x-accel-buffering'] = 'no';
        if (res.socket) res.socket.setNoDelay(true);
        if (onStream) onStream(req, res);
      }
    });

    proxyServer.on('econnreset', () => {
      /* the browser hung up mid-request: nothing to answer */
    });

    proxyServer.on('error', (err, req, res) => {
      const reason = err && err.code ? err.code : 'EUNKNOWN';
      const isResponse = res && typeof res.writeHead === 'function';
      if (!isResponse) {
        if (res && typeof res.destroy === 'function') res.destroy();
        return;
      }
      if (res.headersSent || res.writableEnded) {
        // mid-stream failure: nothing better to do than cut the response short
        res.destroy();
        return;
      }
      const timeout = reason === 'ERESPONSETIMEOUT';
      const status = timeout ? 504 : 502;
      const code = timeout ? 'hub_timeout' : 'hub_unavailable';
      const message = timeout
        ? 'The SkyRas hub did not answer in time.'
        : UNAVAILABLE_CODES.has(reason)
          ? 'The SkyRas hub is not reachable. Is it running?'
          : 'The request to the SkyRas hub failed.';
      logger.warn('hub proxy error', {
        request_id: req.id, method: req.method, path: req.path || req.url, reason,
        error: err && err.message, hub_url: hubForHumans,
      });
      res.setHeader('X-Request-ID', req.id);
      // an upload still in flight is not worth reading: close the connection after answering
      if (!req.complete) res.setHeader('Connection', 'close');
      sendJsonError(res, status, code, message, { hub_url: hubForHumans, reason, request_id: req.id });
    });
  }

  const middleware = createProxyMiddleware({
    target: config.hubUrl,
    changeOrigin: true,
    xfwd: true,
    agent,
    pathFilter: (pathname) => isApiPath(pathname),
    ejectPlugins: true,
    plugins: [attach],
  });

  return { middleware, agent };
}

module.exports = { createHubProxy, sendJsonError, isApiPath, API_PREFIX };
