'use strict';

const fs = require('node:fs');

const DEFAULT_HUB_URL = 'http://127.0.0.1:8000';

function intFrom(value, fallback) {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number.parseInt(String(value), 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * The hub API key: SKYRAS_FRONTEND_API_KEY, or the file SKYRAS_FRONTEND_API_KEY_FILE names
 * (Docker Compose writes the key into a volume when it first starts).
 */
function readApiKey(env) {
  const file = (env.SKYRAS_FRONTEND_API_KEY_FILE || '').trim();
  if (!file) return (env.SKYRAS_FRONTEND_API_KEY || '').trim();
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`SKYRAS_FRONTEND_API_KEY_FILE cannot be read: ${err.message}`);
  }
}

/**
 * Reads the frontend's settings from an environment object (process.env by default).
 * Every value can also be passed explicitly (tests do).
 */
function loadConfig(env = process.env, overrides = {}) {
  const hubUrlRaw = (env.SKYRAS_HUB_URL || DEFAULT_HUB_URL).trim();
  let hubUrl;
  try {
    hubUrl = new URL(hubUrlRaw);
  } catch {
    throw new Error(`SKYRAS_HUB_URL is not a valid URL: ${JSON.stringify(hubUrlRaw)}`);
  }
  if (hubUrl.protocol !== 'http:' && hubUrl.protocol !== 'https:') {
    throw new Error(`SKYRAS_HUB_URL must be http(s): ${hubUrl.protocol}`);
  }
  const apiKey = readApiKey(env);
  const config = {
    host: env.SKYRAS_FRONTEND_HOST || '127.0.0.1',
    port: intFrom(env.SKYRAS_FRONTEND_PORT ?? env.PORT, 3000),
    hubUrl: hubUrl.origin + hubUrl.pathname.replace(/\/+$/, ''),
    apiKey: apiKey || null,
    // time allowed to open a TCP connection to the hub before answering 502
    connectTimeoutMs: intFrom(env.SKYRAS_FRONTEND_CONNECT_TIMEOUT_MS, 3000),
    // time allowed between the request being sent and the hub's response headers (504 after)
    responseTimeoutMs: intFrom(env.SKYRAS_FRONTEND_RESPONSE_TIMEOUT_MS, 60000),
    // time given to open requests on SIGTERM before connections are closed
    shutdownTimeoutMs: intFrom(env.SKYRAS_FRONTEND_SHUTDOWN_TIMEOUT_MS, 10000),
    healthTimeoutMs: intFrom(env.SKYRAS_FRONTEND_HEALTH_TIMEOUT_MS, 1500),
    logLevel: (env.SKYRAS_FRONTEND_LOG_LEVEL || env.LOG_LEVEL || 'info').toLowerCase(),
    ...overrides,
  };
  return config;
}

/** The hub URL without any user:password part, for logs and /health. */
function publicHubUrl(hubUrl) {
  const u = new URL(hubUrl);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/+$/, '');
}

module.exports = { loadConfig, publicHubUrl, DEFAULT_HUB_URL };
