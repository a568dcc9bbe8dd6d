// Chat with the agents through the hub's POST /api/v2/chat.

import { h, $ } from './dom.js';
import { api } from './api.js';
import { bus } from './state.js';
import { label, clockTime } from './format.js';
import { taskCard, fileCard } from './cards.js';

const log = $('#chat-log');
const form = $('#chat-form');
const input = $('#chat-input');
const agentSelect = $('#chat-agent');
const send = $('#chat-send');

let openTask = () => {};

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

function displayName(who) {
  return !who || who === 'skyras' ? 'SkyRas' : label(who);
}

function avatar(name, kind) {
  const letter = kind === 'user' ? 'You'.charAt(0) : (name || 'S').charAt(0).toUpperCase();
  return h('span', { class: `avatar avatar-${kind} avatar-${(name || 'skyras').toLowerCase()}`, 'aria-hidden': 'true' }, letter);
}

function addMessage({ kind, who, text, cards = [], extra }) {
  const li = h('li', { class: `msg msg-${kind}`, dataset: { testid: `chat-message-${kind}`, agent: who || '' } },
    avatar(who, kind),
    h('div', { class: 'bubble' },
      h('div', { class: 'msg-head' },
        h('span', { class: 'msg-who', dataset: { testid: 'chat-agent-name' } }, kind === 'user' ? 'You' : displayName(who)),
        h('time', { class: 'msg-time' }, clockTime())),
      h('p', { class: 'msg-text' }, text),
      extra || null,
      cards.length ? h('div', { class: 'cards' }, cards) : null,
    ));
  log.append(li);
  scrollToEnd();
  return li;
}

function cardsFor(data) {
  if (!data || typeof data !== 'object') return [];
  const out = [];
  const tasks = [];
  if (data.task && typeof data.task === 'object') tasks.push(data.task);
  if (Array.isArray(data.tasks)) tasks.push(...data.tasks);
  const files = [];
  if (data.file && typeof data.file === 'object') files.push(data.file);
  if (Array.isArray(data.files)) files.push(...data.files);
  for (const t of tasks.slice(0, 12)) out.push(taskCard(t, { onOpen: (task) => openTask(task) }));
  for (const f of files.slice(0, 12)) out.push(fileCard(f));
  const more = tasks.length + files.length - out.length;
  if (more > 0) out.push(h('p', { class: 'help' }, `…and ${more} more`));
  return out;
}

async function submit(message) {
  const agent = agentSelect.value || undefined;
  addMessage({ kind: 'user', who: 'you', text: message });
  const pending = h('li', { class: 'msg msg-agent msg-pending', 'aria-label': 'Waiting for a reply' },
    avatar(agent || 'skyras', 'agent'),
    h('div', { class: 'bubble' }, h('span', { class: 'typing', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')),
      h('span', { class: 'visually-hidden' }, 'Waiting for a reply…')));
  log.append(pending);
  scrollToEnd();
  send.disabled = true;
  try {
    const res = await api('/api/v2/chat', { method: 'POST', json: agent ? { message, agent } : { message } });
    pending.remove();
    const data = res && res.data;
    addMessage({
      kind: 'agent',
      who: (res && res.agent) || 'skyras',
      text: (res && res.reply) || '(no reply)',
      cards: cardsFor(data),
    });
    if (data && (data.task || data.tasks)) bus.emit('tasks-changed', {});
    if (data && (data.file || data.files)) bus.emit('files-changed', {});
  } catch (err) {
    pending.remove();
    const d = err.details && typeof err.details === 'object' && !Array.isArray(err.details) ? err.details : {};
    const who = d.agent || agent || 'skyras';
    const li = addMessage({
      kind: 'error',
      who,
      text: err.message,
      extra: h('p', { class: 'msg-code' }, `${err.code}${err.status ? ` · HTTP ${err.status}` : ''}`),
    });
    li.dataset.testid = 'chat-error';
  } finally {
    send.disabled = false;
  }
}

export function initChat({ onOpenTask }) {
  openTask = onOpenTask;
  addMessage({
    kind: 'agent',
    who: 'skyras',
    text: 'Hi! Ask Marcus about tasks and deadlines, or Letitia about files in the library. '
      + 'Try “create a task to master the single, high priority”.',
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const message = input.value.trim();
    if (!message) {
      input.focus();
      return;
    }
    input.value = '';
    autosize();
    submit(message);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  const autosize = () => {
    input.style.height = '';
    if (input.value) input.style.height = `${Math.min(Math.max(input.scrollHeight + 2, 42), 160)}px`;
  };
  input.addEventListener('input', autosize);

  for (const chip of document.querySelectorAll('[data-suggest]')) {
    chip.addEventListener('click', () => {
      input.value = chip.dataset.suggest;
      autosize();
      input.focus();
    });
  }

  bus.on('agents', (agents) => {
    const current = agentSelect.value;
    const names = agents.map((a) => a.name).sort();
    const have = [...agentSelect.options].map((o) => o.value).filter(Boolean);
    if (names.join() === have.join()) return;
    while (agentSelect.options.length > 1) agentSelect.remove(1);
    for (const n of names) agentSelect.add(new Option(label(n), n));
    agentSelect.value = names.includes(current) ? current : '';
  });
}
