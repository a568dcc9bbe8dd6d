// Compact cards for what an agent did (chat) — a task or a file — linking to the full item.

import { h } from './dom.js';
import { label, dueInfo, formatBytes } from './format.js';

export function priorityBadge(priority) {
  return h('span', { class: `badge prio-${priority || 'medium'}`, title: 'Priority' }, label(priority || 'medium'));
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status || 'pending'}`, title: 'Status' }, label(status || 'pending'));
}

export function dueBadge(iso) {
  const due = dueInfo(iso);
  if (!due) return null;
  const cls = due.overdue ? 'due overdue' : due.soon ? 'due soon' : 'due';
  return h('span', { class: cls, title: `Due ${due.text}` },
    h('span', { class: 'visually-hidden' }, 'Due '), `${due.text} · ${due.relative}`);
}

export function tagChips(tags) {
  if (!Array.isArray(tags) || tags.length === 0) return null;
  return h('ul', { class: 'tags', 'aria-label': 'Tags' }, tags.map((t) => h('li', { class: 'tag' }, `#${t}`)));
}

export function downloadHref(file) {
  return `/api/v2/agents/letitia/files/${encodeURIComponent(file.id)}/content`;
}

export function taskCard(task, { onOpen } = {}) {
  return h('article', { class: 'card card-task', dataset: { testid: 'chat-task-card', taskId: task.id } },
    h('div', { class: 'card-kind' }, 'Task'),
    h('h4', { class: 'card-title' }, task.title || '(untitled)'),
    h('div', { class: 'card-meta' }, priorityBadge(task.priority), statusBadge(task.status), dueBadge(task.due_date)),
    tagChips(task.tags),
    onOpen && task.id !== undefined
      ? h('button', { type: 'button', class: 'link-btn', onclick: () => onOpen(task) }, 'Open in Tasks →')
      : null,
  );
}

export function fileCard(file) {
  const size = formatBytes(file.file_size);
  return h('article', { class: 'card card-file', dataset: { testid: 'chat-file-card', fileId: file.id } },
    h('div', { class: 'card-kind' }, label(file.file_type || 'file')),
    h('h4', { class: 'card-title' }, file.title || file.filename || '(unnamed)'),
    file.title && file.filename && file.title !== file.filename ? h('div', { class: 'card-sub' }, file.filename) : null,
    h('div', { class: 'card-meta' }, size ? h('span', { class: 'meta' }, size) : null,
      file.content_type ? h('span', { class: 'meta' }, file.content_type) : null),
    tagChips(file.tags),
    file.id !== undefined
      ? h('a', { class: 'link-btn', href: downloadHref(file), download: file.filename || '' }, 'Download ↓')
      : null,
  );
}
