// Letitia's library: uploads with per-file progress, recent files, search with highlights, tags.

import { h, $, clear } from './dom.js';
import { api, qs, upload } from './api.js';
import { bus } from './state.js';
import { label, formatBytes, parseTags, parseHighlight, timeAgo } from './format.js';
import { tagChips, downloadHref } from './cards.js';
import { toast } from './toast.js';

const BASE = '/api/v2/agents/letitia';
const CONCURRENCY = 2;

const dropzone = $('#dropzone');
const input = $('#upload-input');
const uploadTags = $('#upload-tags');
const uploadList = $('#upload-list');
const fileList = $('#file-list');
const filesMsg = $('#files-msg');
const filesHeading = $('#files-heading');
const more = $('#files-more');
const searchForm = $('#search-form');
const searchClear = $('#search-clear');

let mode = 'recent'; // or 'search'
let items = [];
let nextCursor = null;
let generation = 0;
let uploadSeq = 0;
const queue = [];
let active = 0;

// Letitia's file types: document | audio | image | video | other.
const TYPE_ICONS = { document: '≡', audio: '♪', image: '▣', video: '▶', other: '◆' };

function setMsg(text, kind = '') {
  filesMsg.textContent = text;
  filesMsg.className = `panel-msg ${kind}`;
}

/* ---------- uploads ---------- */

function enqueue(files) {
  const tags = parseTags(uploadTags.value);
  for (const file of files) {
    const id = ++uploadSeq;
    const progress = h('progress', { max: '100', value: '0', 'aria-label': `Upload progress for ${file.name}`, dataset: { testid: 'upload-progress' } });
    const status = h('span', { class: 'upload-status', dataset: { testid: 'upload-status' } }, 'Waiting…');
    const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Cancel upload of ${file.name}` }, 'Cancel');
    const li = h('li', { class: 'upload', dataset: { testid: 'upload-item', state: 'queued', uploadId: String(id) } },
      h('div', { class: 'upload-row' },
        h('span', { class: 'upload-name' }, file.name),
        h('span', { class: 'upload-size' }, formatBytes(file.size)),
        cancel),
      progress, status);
    uploadList.prepend(li);
    const job = { file, tags, li, progress, status, cancel, abort: null, cancelled: false };
    cancel.addEventListener('click', () => {
      job.cancelled = true;
      if (job.abort) job.abort();
      else finish(job, 'cancelled', 'Cancelled.');
    });
    queue.push(job);
  }
  pump();
}

function finish(job, state, text) {
  job.li.dataset.state = state;
  job.status.textContent = text;
  job.status.className = `upload-status ${state}`;
  job.cancel.remove();
}

function pump() {
  while (active < CONCURRENCY && queue.length) {
    const job = queue.shift();
    if (job.cancelled) continue;
    active += 1;
    run(job).finally(() => {
      active -= 1;
      pump();
    });
  }
}

async function run(job) {
  const form = new FormData();
  if (job.tags.length) form.append('tags', job.tags.join(','));
  form.append('file', job.file, job.file.name);
  job.li.dataset.state = 'uploading';
  job.status.textContent = 'Uploading… 0%';
  const { promise, abort } = upload(`${BASE}/upload`, form, {
    onProgress(loaded, total) {
      const pct = total ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
      job.progress.value = pct;
      job.status.textContent = pct >= 100 ? 'Processing…' : `Uploading… ${pct}% (${formatBytes(loaded)} of ${formatBytes(total)})`;
    },
  });
  job.abort = abort;
  try {
    const record = await promise;
    job.progress.value = 100;
    finish(job, 'done', 'Uploaded ✓');
    if (record && record.id !== undefined) {
      job.li.querySelector('.upload-row').append(
        h('a', { class: 'link-btn', href: downloadHref(record), download: record.filename || '' }, 'Download'));
    }
    toast(`${job.file.name} uploaded.`);
    bus.emit('files-changed', {});
  } catch (err) {
    if (err.code === 'aborted') finish(job, 'cancelled', 'Cancelled.');
    else finish(job, 'error', `Failed: ${err.message}`);
  }
}

function initDropzone() {
  input.addEventListener('change', () => {
    if (input.files && input.files.length) enqueue([...input.files]);
    input.value = '';
  });
  let depth = 0;
  dropzone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth += 1;
    dropzone.classList.add('active');
  });
  dropzone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  dropzone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropzone.classList.remove('active');
  });
  dropzone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    dropzone.classList.remove('active');
    const files = e.dataTransfer ? [...e.dataTransfer.files] : [];
    if (files.length) enqueue(files);
  });
  // a file dropped next to the zone must not navigate away from the app
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
}

/* ---------- list and search ---------- */

function highlightNode(text) {
  return h('p', { class: 'highlight', dataset: { testid: 'search-highlight' } },
    parseHighlight(text).map((s) => (s.mark ? h('mark', null, s.text) : s.text)));
}

/** A highlight is worth a line when it marks something or says more than the title. */
function showHighlight(file) {
  if (!file.highlight) return false;
  const segments = parseHighlight(file.highlight);
  if (segments.some((s) => s.mark)) return true;
  const text = segments.map((s) => s.text).join('').trim();
  return Boolean(text) && text !== file.filename && text !== file.title;
}

function fileItem(file) {
  const tagForm = h('form', { class: 'tag-form', hidden: true });
  const tagInputId = `tags-for-${file.id}`;
  const tagInput = h('input', { id: tagInputId, autocomplete: 'off', placeholder: 'final, vocals', dataset: { testid: 'file-tags-input' } });
  const tagMsg = h('span', { class: 'form-msg', role: 'status' });
  const addTags = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-expanded': 'false', dataset: { testid: 'file-add-tags' },
    'aria-label': `Add tags to ${file.filename}` }, '+ Tags');
  tagForm.append(
    h('label', { for: tagInputId }, `Tags to add to ${file.filename}`),
    h('div', { class: 'tag-form-row' }, tagInput,
      h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Add'),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => toggle(false) }, 'Cancel')),
    tagMsg);
  const toggle = (open) => {
    tagForm.hidden = !open;
    addTags.setAttribute('aria-expanded', String(open));
    if (open) tagInput.focus();
    else addTags.focus();
  };
  addTags.addEventListener('click', () => toggle(tagForm.hidden));
  tagForm.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') toggle(false);
  });
  tagForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const tags = parseTags(tagInput.value);
    if (!tags.length) {
      tagMsg.textContent = 'Type at least one tag.';
      return;
    }
    tagMsg.textContent = 'Saving…';
    try {
      const updated = await api(`${BASE}/files/${encodeURIComponent(file.id)}/tags`, { method: 'POST', json: { tags } });
      const merged = updated && updated.id !== undefined ? { ...file, ...updated } : { ...file, tags: [...new Set([...(file.tags || []), ...tags])] };
      const i = items.findIndex((x) => x.id === file.id);
      if (i >= 0) items[i] = merged;
      const li = fileItem(merged);
      fileList.querySelector(`[data-file-id="${CSS.escape(String(file.id))}"]`)?.replaceWith(li);
      li.querySelector('[data-testid=file-add-tags]').focus();
      toast(`Tagged ${file.filename}.`);
    } catch (err) {
      tagMsg.textContent = `Not saved: ${err.message}`;
      tagMsg.className = 'form-msg error';
    }
  });

  const type = file.file_type || 'other';
  return h('li', { class: 'item file', dataset: { testid: 'file-item', fileId: file.id, fileType: type } },
    // Images with stored bytes (covers from Giorgio, uploads) show themselves instead of an icon.
    type === 'image' && file.has_content
      ? h('img', { class: 'file-thumb', src: downloadHref(file), alt: `Preview of ${file.title || file.filename}`,
        loading: 'lazy', width: 56, height: 56, dataset: { testid: 'file-thumb' } })
      : h('span', { class: `file-icon type-${type}`, 'aria-hidden': 'true' }, TYPE_ICONS[type] || '◆'),
    h('div', { class: 'item-main' },
      h('h3', { class: 'item-title' }, file.title || file.filename),
      h('div', { class: 'item-meta' },
        file.title && file.title !== file.filename ? h('span', { class: 'meta' }, file.filename) : null,
        h('span', { class: 'badge' }, label(type)),
        file.file_size !== undefined ? h('span', { class: 'meta' }, formatBytes(file.file_size)) : null,
        file.uploaded_at ? h('span', { class: 'meta', title: file.uploaded_at }, timeAgo(file.uploaded_at)) : null,
        typeof file.rank === 'number' ? h('span', { class: 'meta' }, `score ${file.rank.toFixed(2)}`) : null),
      showHighlight(file) ? highlightNode(file.highlight) : null,
      tagChips(file.tags),
      tagForm),
    h('div', { class: 'item-actions' },
      addTags,
      h('a', { class: 'btn btn-small', href: downloadHref(file), download: file.filename || '', dataset: { testid: 'file-download' },
        'aria-label': `Download ${file.filename}` }, 'Download')));
}

function render() {
  clear(fileList);
  for (const f of items) fileList.append(fileItem(f));
  more.hidden = !(mode === 'recent' && nextCursor);
}

export async function loadFiles({ append = false } = {}) {
  const gen = ++generation;
  mode = 'recent';
  filesHeading.textContent = 'Recent files';
  searchClear.hidden = true;
  fileList.setAttribute('aria-busy', 'true');
  if (!append && !items.length) setMsg('Loading files…');
  try {
    const res = await api(`${BASE}/files${qs({ limit: 30, cursor: append ? nextCursor : undefined })}`);
    if (gen !== generation) return;
    const page = Array.isArray(res && res.items) ? res.items : [];
    items = append ? items.concat(page) : page;
    nextCursor = (res && res.next_cursor) || null;
    render();
    setMsg(items.length ? '' : 'The library is empty. Drop a file above to add one.');
  } catch (err) {
    if (gen !== generation) return;
    setMsg(`Files could not be loaded: ${err.message}`, 'error');
  } finally {
    fileList.removeAttribute('aria-busy');
  }
}

async function search() {
  const f = new FormData(searchForm);
  const query = String(f.get('query') || '').trim();
  const fileType = f.get('file_type') || '';
  const tags = parseTags(f.get('tags'));
  if (!query && !fileType && !tags.length) {
    loadFiles();
    return;
  }
  const gen = ++generation;
  mode = 'search';
  searchClear.hidden = false;
  fileList.setAttribute('aria-busy', 'true');
  setMsg('Searching…');
  const body = { query, limit: 30 };
  if (fileType) body.file_type = fileType;
  if (tags.length) body.tags = tags;
  try {
    const res = await api(`${BASE}/search`, { method: 'POST', json: body });
    if (gen !== generation) return;
    items = Array.isArray(res && res.items) ? res.items : [];
    nextCursor = null;
    const total = typeof (res && res.total) === 'number' ? res.total : items.length;
    filesHeading.textContent = query ? `Results for “${query}”` : 'Filtered files';
    render();
    setMsg(items.length ? `${total} file${total === 1 ? '' : 's'} found.` : 'Nothing matches. Try fewer words or other tags.');
  } catch (err) {
    if (gen !== generation) return;
    setMsg(`Search failed: ${err.message}`, 'error');
  } finally {
    fileList.removeAttribute('aria-busy');
  }
}

export function initLibrary() {
  initDropzone();
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  searchClear.addEventListener('click', () => {
    searchForm.reset();
    loadFiles();
    $('#search-q').focus();
  });
  more.addEventListener('click', () => loadFiles({ append: true }));
  $('#library-refresh').addEventListener('click', () => (mode === 'search' ? search() : loadFiles()));
  let changed;
  bus.on('files-changed', () => {
    clearTimeout(changed);
    changed = setTimeout(() => (mode === 'search' ? search() : loadFiles()), 300);
  });
  bus.on('hub', (hub) => {
    if (hub.state === 'up' && filesMsg.classList.contains('error')) loadFiles();
  });
  loadFiles();
}
