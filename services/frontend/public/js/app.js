// Entry point: tabs, status pills, banners, and each panel.

import { h, $, clear } from './dom.js';
import { bus } from './state.js';
import { label } from './format.js';
import { initChat } from './chat.js';
import { initTasks, showTask } from './tasks.js';
import { initLibrary } from './library.js';
import { initAgents, refreshAgents } from './agents.js';
import { initReleases } from './releases.js';
import { initAudio } from './audio.js';
import { initEvents } from './events.js';
import { api } from './api.js';

const layout = $('#layout');
const tabs = [...document.querySelectorAll('#tabs [role=tab]')];
const CENTER = ['tasks', 'library', 'releases', 'audio', 'agents'];
const desktop = matchMedia('(min-width: 1100px)');

/* ---------- tabs (one at a time on a phone; chat and activity stay visible on a desktop) ---------- */

function visibleTabs() {
  return tabs.filter((t) => t.offsetParent !== null);
}

function select(view, { focus = false } = {}) {
  if (desktop.matches && !CENTER.includes(view)) {
    // chat and activity are always shown on wide screens: just move focus there
    const target = view === 'chat' ? $('#chat-input') : $('#panel-activity');
    if (target && focus) target.focus();
    return;
  }
  layout.dataset.view = view;
  if (CENTER.includes(view)) layout.dataset.center = view;
  for (const t of tabs) {
    const on = t.dataset.view === (desktop.matches ? layout.dataset.center : view);
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    if (on && focus) t.focus();
  }
  if (view === 'activity') {
    $('#activity-badge').hidden = true;
    $('#activity-badge').textContent = '';
  }
  try {
    localStorage.setItem('skyras.view', view);
  } catch { /* private mode */ }
}

function initTabs() {
  for (const t of tabs) {
    t.addEventListener('click', () => select(t.dataset.view));
    t.addEventListener('keydown', (e) => {
      const vis = visibleTabs();
      const i = vis.indexOf(t);
      let next = null;
      if (e.key === 'ArrowRight') next = vis[(i + 1) % vis.length];
      else if (e.key === 'ArrowLeft') next = vis[(i - 1 + vis.length) % vis.length];
      else if (e.key === 'Home') next = vis[0];
      else if (e.key === 'End') next = vis[vis.length - 1];
      if (next) {
        e.preventDefault();
        select(next.dataset.view, { focus: true });
      }
    });
  }
  let saved = null;
  try {
    saved = localStorage.getItem('skyras.view');
  } catch { /* private mode */ }
  const fromHash = location.hash.replace('#', '');
  const initial = [...CENTER, 'chat', 'activity'].includes(fromHash) ? fromHash : saved || 'chat';
  if (CENTER.includes(initial)) layout.dataset.center = initial;
  select(initial);
  desktop.addEventListener('change', () => select(desktop.matches ? layout.dataset.center : layout.dataset.view));
}

/* ---------- status pills and banners ---------- */

function setPill(el, state, text) {
  el.dataset.state = state;
  el.querySelector('.pill-text').textContent = text;
}

const banners = $('#banners');
function renderBanners() {
  clear(banners);
  const hub = bus.hub;
  if (hub.state === 'down') {
    banners.append(banner('error', 'hub-down', 'The SkyRas hub is not reachable.',
      'Chat, tasks and the library are unavailable until it is back; this page retries by itself.'));
  } else if (hub.state === 'unreachable') {
    banners.append(banner('error', 'frontend-down', 'This page has lost its connection to the SkyRas server.',
      'Check your network or that the frontend is running; retrying by itself.'));
  }
  if (hub.state === 'up') {
    for (const a of bus.agents.values()) {
      if (a.status === 'healthy') continue;
      const what = { marcus: 'Tasks and scheduling', letitia: 'The library' }[a.name] || 'Its features';
      banners.append(banner(a.status === 'down' ? 'error' : 'warn', `agent-${a.name}`,
        `${label(a.name)} is ${a.status === 'down' ? 'down' : 'unhealthy'}.`,
        `${what} may not work right now.${a.error ? ` (${a.error})` : ''}`));
    }
  }
  const bad = [...bus.agents.values()].filter((a) => a.status !== 'healthy').length;
  const badge = $('#agents-badge');
  badge.hidden = !bad || hub.state !== 'up';
  badge.textContent = String(bad);
  badge.setAttribute('aria-label', `${bad} agent${bad === 1 ? '' : 's'} not healthy`);
}

function banner(kind, id, title, text) {
  return h('div', { class: `banner banner-${kind}`, dataset: { testid: `banner-${id}` } },
    h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, kind === 'error' ? '!' : '⚠'),
    h('div', null, h('strong', null, title), ' ', h('span', null, text)));
}

function initStatus() {
  const hubPill = $('#hub-pill');
  const feedPill = $('#feed-pill');
  bus.on('hub', (hub) => {
    const text = { up: 'Hub: connected', down: 'Hub: unreachable', unreachable: 'Server: offline', unknown: 'Hub: checking…' }[hub.state];
    setPill(hubPill, hub.state, text);
    renderBanners();
  });
  bus.on('agents', renderBanners);
  bus.on('feed', (state) => {
    const text = { live: 'Live', connecting: 'Live: connecting…', reconnecting: 'Live: reconnecting…', offline: 'Live: offline' }[state];
    setPill(feedPill, state, text);
  });
  bus.on('agents-changed', () => refreshAgents());

  // the frontend's own /health says whether the hub answers, even when nothing else is asked
  const check = async () => {
    try {
      const health = await api('/health');
      if (health && health.hub) {
        if (health.hub.reachable && health.hub.ok) bus.setHub('up');
        else bus.setHub('down', `(${health.hub.error || 'no answer'})`);
      }
    } catch { /* api() already noted it */ }
  };
  check();
  setInterval(() => {
    if (document.visibilityState === 'visible') check();
  }, 15000);
}

/* ---------- start ---------- */

initTabs();
initStatus();
initChat({
  onOpenTask: (task) => {
    select('tasks');
    showTask(task);
  },
});
initTasks();
initLibrary();
initReleases();
initAudio();
initAgents();
initEvents({
  onEvent: () => {
    const tab = $('#tab-activity');
    if (!desktop.matches && layout.dataset.view !== 'activity' && tab.offsetParent !== null) {
      const badge = $('#activity-badge');
      badge.hidden = false;
      badge.textContent = String((Number(badge.textContent) || 0) + 1);
    }
  },
});
