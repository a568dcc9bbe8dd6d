// Marcus's tasks: list with filters, create, change status (optimistic concurrency).

import { h, $, clear } from './dom.js';
import { api, qs } from './api.js';
import { bus } from './state.js';
import { label, parseTags, STATUSES } from './format.js';
import { priorityBadge, dueBadge, tagChips } from './cards.js';
import { toast } from './toast.js';

const BASE = '/api/v2/agents/marcus/tasks';
const PAGE = 50;

const list = $('#task-list');
const msg = $('#tasks-msg');
const count = $('#tasks-count');
const more = $('#tasks-more');
const filters = $('#task-filters');
const form = $('#task-form');
const formMsg = $('#task-form-msg');

let items = [];
let nextCursor = null;
let loading = null;
let generation = 0;

function currentFilters() {
  const f = new FormData(filters);
  return {
    q: String(f.get('q') || '').trim(),
    status: f.get('status') || '',
    priority: f.get('priority') || '',
    tag: parseTags(f.get('tag'))[0] || '',
  };
}

function setMsg(text, kind = '') {
  msg.textContent = text;
  msg.className = `panel-msg ${kind}`;
}

export async function loadTasks({ append = false } = {}) {
  const gen = ++generation;
  const params = { ...currentFilters(), limit: PAGE, cursor: append ? nextCursor : undefined };
  list.setAttribute('aria-busy', 'true');
  if (!append && items.length === 0) setMsg('Loading tasks…');
  const p = api(`${BASE}${qs(params)}`);
  loading = p;
  try {
    const res = await p;
    if (gen !== generation) return;
    const page = Array.isArray(res && res.items) ? res.items : [];
    items = append ? items.concat(page) : page;
    nextCursor = (res && res.next_cursor) || null;
    render();
    const f = currentFilters();
    const filtered = f.q || f.status || f.priority || f.tag;
    setMsg(items.length === 0 ? (filtered ? 'No task matches these filters.' : 'No tasks yet. Create one above or ask Marcus in the chat.') : '');
  } catch (err) {
    if (gen !== generation) return;
    setMsg(`Tasks could not be loaded: ${err.message}`, 'error');
  } finally {
    if (loading === p) loading = null;
    list.removeAttribute('aria-busy');
  }
}

function render() {
  clear(list);
  for (const t of items) list.append(taskItem(t));
  count.textContent = items.length ? `(${items.length}${nextCursor ? '+' : ''})` : '';
  more.hidden = !nextCursor;
}

function taskItem(task) {
  const selectId = `task-status-${task.id}`;
  const select = h('select', { id: selectId, class: 'status-select', dataset: { testid: 'task-status-select' } },
    STATUSES.map((s) => {
      const o = new Option(label(s), s);
      o.selected = s === task.status;
      return o;
    }));
  select.addEventListener('change', () => changeStatus(task, select.value, select));
  const done = task.status !== 'completed'
    ? h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { testid: 'task-complete' },
      'aria-label': `Mark “${task.title}” completed`, onclick: () => changeStatus(task, 'completed', select) }, '✓ Done')
    : null;
  return h('li', {
    class: `item task status-${task.status}`,
    tabindex: '-1',
    dataset: { testid: 'task-item', taskId: task.id, status: task.status, priority: task.priority },
  },
  h('div', { class: 'item-main' },
    h('h3', { class: 'item-title' }, task.title),
    task.description ? h('p', { class: 'item-desc' }, task.description) : null,
    h('div', { class: 'item-meta' }, priorityBadge(task.priority), dueBadge(task.due_date),
      task.assignee ? h('span', { class: 'meta' }, `@${task.assignee}`) : null),
    tagChips(task.tags)),
  h('div', { class: 'item-actions' },
    h('label', { for: selectId, class: 'visually-hidden' }, `Status of “${task.title}”`),
    select, done));
}

async function changeStatus(task, status, select) {
  if (status === task.status) return;
  select.disabled = true;
  try {
    const updated = await api(`${BASE}/${encodeURIComponent(task.id)}`, {
      method: 'PATCH',
      json: { status },
      headers: { 'If-Match': `"${task.version}"` },
    });
    const i = items.findIndex((t) => t.id === task.id);
    if (i >= 0 && updated && updated.id !== undefined) items[i] = updated;
    render();
    toast(`“${task.title}” is now ${label(status).toLowerCase()}.`);
    const li = list.querySelector(`[data-task-id="${CSS.escape(String(task.id))}"]`);
    if (li) li.querySelector('select').focus();
  } catch (err) {
    select.value = task.status;
    select.disabled = false;
    if (err.status === 409) {
      setMsg(`“${task.title}” was changed somewhere else, so the list was reloaded. Check it and try again.`, 'warn');
      await loadTasks();
    } else if (err.status === 404) {
      setMsg(`“${task.title}” no longer exists; the list was reloaded.`, 'warn');
      await loadTasks();
    } else {
      setMsg(`Could not update “${task.title}”: ${err.message}`, 'error');
    }
  }
}

async function createTask(e) {
  e.preventDefault();
  const f = new FormData(form);
  const title = String(f.get('title') || '').trim();
  if (!title) {
    formMsg.textContent = 'A title is needed.';
    formMsg.className = 'form-msg error';
    $('#task-title').focus();
    return;
  }
  const body = {
    title,
    description: String(f.get('description') || '').trim(),
    priority: f.get('priority') || 'medium',
    status: f.get('status') || 'pending',
    due_date: f.get('due_date') || null, // a bare date: the day, ending at 23:59:59 UTC
    tags: parseTags(f.get('tags')),
  };
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  formMsg.textContent = 'Creating…';
  formMsg.className = 'form-msg';
  try {
    const task = await api(BASE, { method: 'POST', json: body });
    form.reset();
    formMsg.textContent = `Created “${task && task.title ? task.title : title}”.`;
    await loadTasks();
    if (task && task.id !== undefined) showTask(task, { focus: false });
  } catch (err) {
    formMsg.textContent = `Not created: ${err.message}`;
    formMsg.className = 'form-msg error';
  } finally {
    button.disabled = false;
  }
}

/** Scrolls to a task and flashes it (from a chat card); clears filters that hide it. */
export async function showTask(task, { focus = true } = {}) {
  const find = () => list.querySelector(`[data-task-id="${CSS.escape(String(task.id))}"]`);
  let li = find();
  if (!li) {
    filters.reset();
    await loadTasks();
    li = find();
  }
  if (!li) {
    setMsg(`“${task.title || task.id}” is not in the first page of tasks.`, 'warn');
    return;
  }
  li.classList.remove('flash');
  void li.offsetWidth; // restart the animation
  li.classList.add('flash');
  li.scrollIntoView({ block: 'nearest', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
  if (focus) li.focus({ preventScroll: true });
}

export function initTasks() {
  let timer;
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadTasks(), 250);
  };
  filters.addEventListener('input', reload);
  filters.addEventListener('change', reload);
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    loadTasks();
  });
  form.addEventListener('submit', createTask);
  more.addEventListener('click', () => loadTasks({ append: true }));
  $('#tasks-refresh').addEventListener('click', () => loadTasks());
  let changed;
  bus.on('tasks-changed', () => {
    clearTimeout(changed);
    changed = setTimeout(() => {
      if (!list.contains(document.activeElement) || document.activeElement.tagName !== 'SELECT') loadTasks();
    }, 300);
  });
  bus.on('hub', (hub) => {
    if (hub.state === 'up' && msg.classList.contains('error')) loadTasks();
  });
  loadTasks();
}
