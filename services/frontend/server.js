'use strict';

/**
 * SkyRas v2 frontend: serves the UI from public/ and proxies /api/v2/* to the hub.
 *
 *   SKYRAS_HUB_URL            hub base URL (default http://127.0.0.1:8000)
 *   SKYRAS_FRONTEND_PORT|PORT port (default 3000; 0 picks a free one)
 *   SKYRAS_FRONTEND_HOST      bind address (default 127.0.0.1)
 *   SKYRAS_FRONTEND_API_KEY   optional hub API key, added server-side as a Bearer token
 *   SKYRAS_FRONTEND_API_KEY_FILE  or a file holding it (Docker Compose's way)
 */

const http = require('node:http');
const { loadConfig, publicHubUrl } = require('./lib/config');
const { createLogger } = require('./lib/logger');
const { createApp } = require('./lib/app');

/**
 * Starts the server. Resolves to { server, url, port, config, stop(reason) } once listening.
 */
async function start(options = {}) {
  const config = options.config || loadConfig(options.env || process.env);
  const logger = options.logger || createLogger({ level: config.logLevel, secrets: [config.apiKey] });
  const { app, streams, close: closeApp } = createApp(config, { logger });

  const server = http.createServer(app);
  // uploads can be long: never time out a request while it is still streaming
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  logger.info('listening', {
    url,
    hub_url: publicHubUrl(config.hubUrl),
    api_key_configured: Boolean(config.apiKey),
    pid: process.pid,
  });

  let stopping = null;
  function stop(reason = 'stop') {
    if (stopping) return stopping;
    stopping = new Promise((resolve) => {
      logger.info('shutting down', { reason, open_streams: streams.size });
      const forceTimer = setTimeout(() => {
        logger.warn('shutdown timeout: closing remaining connections', {});
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      forceTimer.unref();
      server.close(() => {
        clearTimeout(forceTimer);
        closeApp();
        logger.info('stopped', {});
        resolve();
      });
      // event streams never end by themselves; browsers reconnect to the next instance
      for (const res of streams) res.end();
      server.closeIdleConnections();
    });
    return stopping;
  }

  return { server, url, port: address.port, config, logger, stop };
}

if (require.main === module) {
  start().then(({ stop, logger }) => {
    for (const signal of ['SIGTERM', 'SIGINT']) {
      process.once(signal, () => {
        stop(signal).then(() => process.exit(0));
      });
    }
    process.on('unhandledRejection', (err) => {
      logger.error('unhandled rejection', { error: err && err.message });
    });
  }).catch((err) => {
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', service: 'frontend', msg: 'failed to start', error: err.message }) + '\n');
    process.exit(1);
  });
}

module.exports = { start };
