// Pure helpers (no DOM): formatting and parsing. Imported by the UI and by the Node tests.

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'];
export const STATUSES = ['pending', 'in_progress', 'completed', 'cancelled'];

export function label(value) {
  if (value === null || value === undefined || value === '') return '';
  const s = String(value).replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function formatBytes(n) {
  const bytes = Number(n);
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** "a, B ,, c" -> ["a", "b", "c"] (trimmed, lowercased, no duplicates). */
export function parseTags(text) {
  const out = [];
  for (const raw of String(text || '').split(',')) {
    const t = raw.trim().toLowerCase().replace(/\s+/g, ' ');
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/**
 * Splits a search highlight into text segments, marking those inside <mark>…</mark>.
 * Only the exact tags <mark> and </mark> are recognised; everything else stays literal
 * text (the UI renders segments as text nodes, so nothing is ever parsed as HTML).
 */
export function parseHighlight(html) {
  const segments = [];
  const s = String(html ?? '');
  const re = /<(\/?)mark>/gi;
  let last = 0;
  let inMark = false;
  let m;
  const push = (text, mark) => {
    if (!text) return;
    const prev = segments[segments.length - 1];
    if (prev && prev.mark === mark) prev.text += text;
    else segments.push({ text, mark });
  };
  while ((m = re.exec(s)) !== null) {
    push(decodeEntities(s.slice(last, m.index)), inMark);
    inMark = m[1] !== '/';
    last = re.lastIndex;
  }
  push(decodeEntities(s.slice(last)), inMark);
  return segments;
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'", nbsp: '\u00a0' };
/** Decodes the few entities a server-side highlighter produces (as text, never markup). */
export function decodeEntities(s) {
  return s.replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (_, e) => ENTITIES[e]);
}

/** A due date from the API (ISO). Dates stored as end of day UTC show as that calendar day. */
export function dueInfo(iso, now = new Date()) {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const endOfDayUtc = d.getUTCHours() === 23 && d.getUTCMinutes() === 59;
  const day = endOfDayUtc
    ? new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((day - today) / 86400000);
  const sameYear = day.getFullYear() === today.getFullYear();
  const text = day.toLocaleDateString(undefined, {
    weekday: Math.abs(days) < 7 ? 'short' : undefined,
    day: 'numeric',
    month: 'short',
    year: sameYear ? undefined : 'numeric',
  });
  let relative;
  if (days === 0) relative = 'today';
  else if (days === 1) relative = 'tomorrow';
  else if (days === -1) relative = 'yesterday';
  else if (days < 0) relative = `${-days} days ago`;
  else relative = `in ${days} days`;
  return { date: day, days, text, relative, overdue: days < 0, soon: days >= 0 && days <= 2 };
}

export function timeAgo(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(t).toLocaleDateString();
}

export function clockTime(iso) {
  const d = iso ? new Date(iso) : new Date();
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** One line describing a CloudEvents envelope for the feed. */
export function describeEvent(ev) {
  const data = ev && typeof ev.data === 'object' && ev.data !== null ? ev.data : {};
  const type = String((ev && ev.type) || 'message');
  const release = data.generation && data.generation.params && data.generation.params.release;
  const name = data.title || data.filename || data.name || (data.task && data.task.title) || (data.file && data.file.filename)
    || (release && release.title) || '';
  const verbs = {
    'task.created': 'Task created', 'task.updated': 'Task updated', 'task.deleted': 'Task deleted',
    'file.uploaded': 'File uploaded', 'file.tagged': 'File tagged', 'file.deleted': 'File deleted',
    'file.associated': 'File linked to a task', 'agent.registered': 'Agent registered',
    'agent.deregistered': 'Agent removed',
    'creative.requested': 'Artwork/copy requested', 'creative.generated': 'Artwork/copy made',
    'creative.failed': 'Artwork/copy failed', 'creative.deleted': 'Artwork/copy deleted',
  };
  const head = verbs[type] || label(type.replace(/\./g, ' '));
  // Agents nest the record (`data.task`, `data.file`) beside what changed (`added`, `removed`);
  // flat payloads (`data.status`, `data.tags`) are read too.
  const record = (data.task && typeof data.task === 'object' && data.task)
    || (data.file && typeof data.file === 'object' && data.file) || data;
  let extra = '';
  const status = data.status || record.status;
  if (type === 'task.updated' && status) extra = ` → ${label(status)}`;
  if (type === 'file.tagged') {
    const added = Array.isArray(data.added) ? data.added : Array.isArray(data.tags) ? data.tags : [];
    const removed = Array.isArray(data.removed) ? data.removed : [];
    const parts = [];
    if (added.length) parts.push(added.join(', '));
    if (removed.length) parts.push(`removed ${removed.join(', ')}`);
    if (parts.length) extra = ` (${parts.join('; ')})`;
  }
  return name ? `${head}: ${name}${extra}` : `${head}${extra}`;
}

/** The agent name from a CloudEvents source such as "/agents/marcus". */
export function sourceAgent(source) {
  const m = /\/agents\/([^/]+)/.exec(String(source || ''));
  return m ? m[1] : String(source || '').replace(/^\//, '');
}

/** The error message to show a person for a failed API call (see api.js ApiError). */
export function errorText(err) {
  if (!err) return 'Something went wrong.';
  return err.message || String(err);
}
