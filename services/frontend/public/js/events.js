// The live event feed: server-sent events from the hub's GET /api/v2/events/stream.

import { h, $, clear } from './dom.js';
import { bus } from './state.js';
import { describeEvent, sourceAgent, clockTime } from './format.js';

const URL_STREAM = '/api/v2/events/stream';
const KNOWN_TYPES = [
  'task.created', 'task.updated', 'task.deleted',
  'file.uploaded', 'file.tagged', 'file.deleted', 'file.associated',
  'agent.registered', 'agent.deregistered', 'agent.updated', 'system',
  'creative.requested', 'creative.generated', 'creative.failed', 'creative.deleted',
];
const MAX_ITEMS = 150;

const feed = $('#event-feed');
const feedMsg = $('#feed-msg');
const seen = new Set();
let source = null;
let retryTimer = null;
let attempt = 0;
let onNew = () => {};

function handle(e) {
  let ev;
  try {
    ev = JSON.parse(e.data);
  } catch {
    ev = { type: e.type, data: { text: e.data } };
  }
  if (!ev || typeof ev !== 'object') return;
  if (!ev.type) ev.type = e.type === 'message' ? 'message' : e.type;
  const id = ev.id || e.lastEventId;
  if (id) {
    if (seen.has(id)) return;
    seen.add(id);
    if (seen.size > 2000) seen.delete(seen.values().next().value);
  }
  add(ev);
  if (String(ev.type).startsWith('task.')) bus.emit('tasks-changed', ev);
  if (String(ev.type).startsWith('file.')) bus.emit('files-changed', ev);
  if (String(ev.type).startsWith('agent.')) bus.emit('agents-changed', ev);
}

function add(ev) {
  const kind = String(ev.type).split('.')[0];
  const agent = sourceAgent(ev.source);
  const li = h('li', { class: `event kind-${kind}`, dataset: { testid: 'event-item', type: ev.type, eventId: ev.id || '' } },
    h('div', { class: 'event-head' },
      h('span', { class: `badge event-type kind-${kind}` }, ev.type),
      h('time', { class: 'event-time', datetime: ev.time || '' }, clockTime(ev.time))),
    h('p', { class: 'event-text' }, describeEvent(ev)),
    h('p', { class: 'event-meta' },
      agent ? `from ${agent}` : '',
      ev.subject ? ` · ${ev.subject}` : ''));
  feed.prepend(li);
  while (feed.children.length > MAX_ITEMS) feed.lastElementChild.remove();
  feedMsg.textContent = '';
  onNew(ev);
}

function connect() {
  clearTimeout(retryTimer);
  if (source) source.close();
  bus.setFeed(attempt === 0 ? 'connecting' : 'reconnecting');
  source = new EventSource(URL_STREAM);
  source.addEventListener('open', () => {
    attempt = 0;
    bus.setFeed('live');
    if (!feed.children.length) feedMsg.textContent = 'Connected. Events will appear here as agents work.';
  });
  for (const type of KNOWN_TYPES) source.addEventListener(type, handle);
  source.onmessage = handle; // events without an `event:` line, and any type not listed above
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) {
      bus.setFeed('reconnecting'); // the browser retries by itself
      return;
    }
    // CLOSED: the stream answered with an error (e.g. 502 while the hub is down); retry ourselves
    source.close();
    attempt += 1;
    bus.setFeed('offline');
    const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt - 1, 5)) + Math.floor(Math.random() * 500);
    feedMsg.textContent = `Live events are unavailable; retrying in ${Math.round(delay / 1000)} s.`;
    retryTimer = setTimeout(connect, delay);
  });
}

export function initEvents({ onEvent } = {}) {
  if (onEvent) onNew = onEvent;
  $('#feed-clear').addEventListener('click', () => {
    clear(feed);
    feedMsg.textContent = 'Cleared. New events will appear here.';
  });
  bus.on('hub', (hub) => {
    if (hub.state === 'up' && source && source.readyState === EventSource.CLOSED) {
      attempt = 0;
      connect();
    }
  });
  window.addEventListener('online', () => {
    attempt = 0;
    connect();
  });
  connect();
}
