// The Releases panel: Jamal's releases with each channel's status, and each show's feed.
// Builds its own section (index.html only holds its tab); refreshes while it is shown.

import { h, $, clear } from './dom.js';
import { api } from './api.js';
import { label, errorText } from './format.js';

const INTERVAL_MS = 5000;

function section() {
  return h('section', {
    id: 'panel-releases', class: 'panel panel-center', role: 'tabpanel',
    'aria-labelledby': 'releases-heading', dataset: { panel: 'releases' },
  },
  h('div', { class: 'panel-head' },
    h('h2', { id: 'releases-heading' }, 'Releases ', h('span', { class: 'count', id: 'releases-count' })),
    h('button', { type: 'button', class: 'btn btn-ghost', id: 'releases-refresh', dataset: { testid: 'releases-refresh' } }, 'Refresh')),
  h('p', { class: 'panel-hint' }, 'Ask ', h('kbd', null, '@jamal'), ' to schedule one: "schedule Night Drive for friday 9am on the podcast feed".'),
  h('ul', { class: 'feed-links', id: 'show-feeds', 'aria-label': 'Podcast feeds', dataset: { testid: 'show-feeds' } }),
  h('p', { class: 'panel-msg', id: 'releases-msg', role: 'status', 'aria-live': 'polite' }),
  h('ul', { class: 'item-list', id: 'release-list', 'aria-label': 'Releases', dataset: { testid: 'release-list' } }));
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
}

function releaseRow(r) {
  const channels = Array.isArray(r.channels) ? r.channels : [];
  return h('li', { class: 'item release', dataset: { testid: 'release-row', releaseId: r.id, status: r.status } },
    h('div', { class: 'item-head' },
      h('h3', { class: 'item-title' }, r.title),
      h('span', { class: `badge release-${r.status}`, dataset: { testid: 'release-status' } }, label(r.status))),
    h('div', { class: 'item-meta' },
      h('span', null, r.artist),
      h('span', { class: 'meta' }, when(r.publish_at)),
      r.show ? h('span', { class: 'meta' }, `show: ${r.show}`) : null),
    h('ul', { class: 'channels', 'aria-label': 'Channels' }, channels.map((c) =>
      h('li', { class: `channel release-${c.status}`, dataset: { testid: 'release-channel', channel: c.channel, status: c.status }, title: c.error || '' },
        `${label(c.channel)}: ${label(c.status)}`, c.error ? ` — ${c.error}` : ''))));
}

let inflight = false;

async function refresh() {
  if (inflight) return;
  inflight = true;
  const msg = $('#releases-msg');
  try {
    const [releases, shows] = await Promise.all([
      api('/api/v2/agents/jamal/releases'),
      api('/api/v2/agents/jamal/shows'),
    ]);
    const items = (releases && releases.items) || [];
    const list = clear($('#release-list'));
    for (const r of items) list.append(releaseRow(r));
    $('#releases-count').textContent = items.length ? `(${items.length})` : '';
    const feeds = clear($('#show-feeds'));
    for (const s of (shows && shows.items) || []) {
      feeds.append(h('li', null, h('a', { href: s.feed_url, dataset: { testid: 'show-feed' } }, `${s.title} — podcast feed`)));
    }
    msg.textContent = items.length ? '' : 'No releases yet.';
    msg.className = 'panel-msg';
  } catch (err) {
    msg.textContent = `Releases are unavailable: ${errorText(err)}`;
    msg.className = 'panel-msg error';
  } finally {
    inflight = false;
  }
}

function shown() {
  const el = $('#panel-releases');
  return el && el.offsetParent !== null && document.visibilityState === 'visible';
}

export function initReleases() {
  const layout = $('#layout');
  layout.insertBefore(section(), $('#panel-activity'));
  $('#releases-refresh').addEventListener('click', refresh);
  $('#tab-releases').addEventListener('click', refresh);
  refresh();
  setInterval(() => {
    if (shown()) refresh();
  }, INTERVAL_MS);
}
