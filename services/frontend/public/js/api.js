// Calls to /api/v2 through the frontend server. Errors come back as ApiError with the hub's
// {"error": {"code", "message", "details"}} when there is one.

import { bus } from './state.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const HUB_DOWN_CODES = new Set(['hub_unavailable', 'hub_timeout']);

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Turns a non-2xx response body into an ApiError. */
export function toApiError(status, body, statusText = '') {
  const e = body && typeof body === 'object' ? body.error : null;
  if (e && typeof e === 'object') {
    let message = e.message || statusText || `Request failed (${status})`;
    if (Array.isArray(e.details) && status === 422) {
      // FastAPI-style validation details: name the fields
      const fields = e.details.map((d) => (Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '')).filter(Boolean);
      if (fields.length && !message.includes(fields[0])) message += ` (${fields.join(', ')})`;
    }
    return new ApiError(status, e.code || `http_${status}`, message, e.details);
  }
  if (body && typeof body === 'object' && typeof body.detail === 'string') {
    return new ApiError(status, `http_${status}`, body.detail, null);
  }
  return new ApiError(status, `http_${status}`, `Request failed: ${status} ${statusText}`.trim(), null);
}

/** Notes in the shared state whether the hub answered. */
export function noteHub(err) {
  if (!err) bus.setHub('up');
  else if (err.code && HUB_DOWN_CODES.has(err.code)) bus.setHub('down', err.message);
  else if (err.code === 'network_error') bus.setHub('unreachable', err.message);
}

export async function api(path, { method = 'GET', json, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    const e = new ApiError(0, 'network_error', 'The SkyRas server cannot be reached. Check that it is running.', null);
    noteHub(e);
    throw e;
  }
  const text = await res.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const e = toApiError(res.status, body, res.statusText);
    noteHub(e);
    throw e;
  }
  noteHub(null);
  return body;
}

/**
 * Multipart upload with real progress (fetch has no upload progress): resolves with the
 * parsed JSON, rejects with ApiError. `onProgress(loaded, total)`; returns { promise, abort }.
 */
export function upload(path, formData, { onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (e) => {
      if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        noteHub(null);
        resolve(body);
      } else {
        const e = toApiError(xhr.status, body, xhr.statusText);
        noteHub(e);
        reject(e);
      }
    });
    xhr.addEventListener('error', () => {
      const e = new ApiError(0, 'network_error', 'The upload was interrupted: the server could not be reached.', null);
      noteHub(e);
      reject(e);
    });
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'Upload cancelled.', null)));
    xhr.send(formData);
  });
  return { promise, abort: () => xhr.abort() };
}
