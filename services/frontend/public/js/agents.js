// Agent health from the hub's GET /api/v2/agents/status, refreshed every few seconds.

import { h, $, clear } from './dom.js';
import { api } from './api.js';
import { bus } from './state.js';
import { label, clockTime } from './format.js';

const INTERVAL_MS = 5000;
const list = $('#agent-list');
const msg = $('#agents-msg');
const overall = $('#agents-overall');
const updated = $('#agents-updated');

let timer = null;
let inflight = false;

function agentRow(a) {
  const state = a.status || 'down';
  const routes = Array.isArray(a.routes) ? a.routes : [];
  return h('li', { class: `agent state-${state}`, dataset: { testid: 'agent-row', agent: a.name, status: state } },
    h('div', { class: 'agent-head' },
      h('span', { class: `status-dot ${state}`, 'aria-hidden': 'true' }),
      h('h3', { class: 'agent-name' }, label(a.name)),
      h('span', { class: `badge health-${state}`, dataset: { testid: 'agent-status' } }, label(state)),
      typeof a.latency_ms === 'number' ? h('span', { class: 'meta' }, `${Math.round(a.latency_ms)} ms`) : null,
      a.version ? h('span', { class: 'meta' }, `v${String(a.version).replace(/^v/, '')}`) : null),
    a.error ? h('p', { class: 'agent-error', dataset: { testid: 'agent-error' } }, a.error) : null,
    h('dl', { class: 'agent-facts' },
      h('dt', null, 'Endpoint'), h('dd', null, h('code', null, a.endpoint || '—'))),
    routes.length
      ? h('details', { class: 'routes' },
        h('summary', null, `${routes.length} route${routes.length === 1 ? '' : 's'}`),
        h('ul', null, routes.map((r) => h('li', null,
          h('code', null, `${(r.methods || []).join(', ')} /api/v2/agents/${a.name}${r.path || ''}`),
          r.target ? h('span', { class: 'meta' }, ` → ${r.target}`) : null))))
      : null);
}

async function refresh() {
  if (inflight) return;
  inflight = true;
  try {
    const res = await api('/api/v2/agents/status');
    const agents = Array.isArray(res && res.agents) ? res.agents : [];
    const status = (res && res.status) || 'ok';
    overall.textContent = status === 'ok' ? 'All healthy' : label(status);
    overall.dataset.state = status;
    clear(list);
    for (const a of [...agents].sort((x, y) => String(x.name).localeCompare(String(y.name)))) list.append(agentRow(a));
    msg.textContent = agents.length ? '' : 'No agents are registered with the hub yet.';
    msg.className = 'panel-msg';
    updated.textContent = `Updated ${clockTime()} · refreshes every ${INTERVAL_MS / 1000} s`;
    bus.setAgents(agents);
  } catch (err) {
    overall.textContent = 'Unknown';
    overall.dataset.state = 'down';
    msg.textContent = `Agent status is unavailable: ${err.message}`;
    msg.className = 'panel-msg error';
    for (const li of list.children) li.classList.add('stale');
  } finally {
    inflight = false;
  }
}

function schedule() {
  clearInterval(timer);
  timer = setInterval(() => {
    if (document.visibilityState === 'visible') refresh();
  }, INTERVAL_MS);
}

export function initAgents() {
  refresh();
  schedule();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refresh();
  });
}

export { refresh as refreshAgents };
