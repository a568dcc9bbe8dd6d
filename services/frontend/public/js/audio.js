// The audio panel: Ari's mastering jobs with their progress, the source's loudness, and
// each master's figures, waveform and download (files served by Letitia through the hub).

import { h, $, clear } from './dom.js';
import { api } from './api.js';
import { errorText, timeAgo } from './format.js';

const list = $('#job-list');
const msg = $('#audio-msg');
const POLL_MS = 1500;
const content = (id) => `/api/v2/agents/letitia/files/${encodeURIComponent(id)}/content`;
const db = (v, unit) => (v === null || v === undefined ? '–' : `${Number(v).toFixed(1)} ${unit}`);

function masterItem(m) {
  const t = m.target;
  const measured = m.measured;
  return h('li', { class: 'master-item', dataset: { testid: 'master', preset: t.preset || 'custom' } },
    h('div', null,
      h('strong', null, `${t.preset || 'custom'} · ${t.format} · ${t.sample_rate} Hz · ${t.channels} ch`), ' ',
      h('span', { class: 'master-figures', dataset: { testid: 'master-figures' } },
        `${db(measured.integrated_lufs, 'LUFS')} (target ${t.integrated_lufs}), true peak `,
        `${db(measured.true_peak_dbtp, 'dBTP')} (ceiling ${t.true_peak_dbtp})`), ' ',
      h('a', { href: content(m.file_id), download: m.filename, dataset: { testid: 'master-download' } },
        `Download ${m.filename}`)),
    h('img', { src: content(m.waveform_file_id), alt: `Waveform of ${m.filename}`, loading: 'lazy',
      width: 1200, height: 300, dataset: { testid: 'master-waveform' } }));
}

function jobItem(job) {
  const a = job.analysis;
  const percent = Math.round(job.progress * 100);
  const masters = Object.values(job.results || {}).filter((r) => r && r.target);
  return h('li', { class: 'item', dataset: { testid: 'job', status: job.status, id: job.id } },
    h('div', { class: 'item-head' },
      h('strong', null, job.source_filename), ' ',
      h('span', { class: 'badge', dataset: { testid: 'job-status' } }, job.status), ' ',
      h('span', { class: 'help' }, timeAgo(job.created_at))),
    job.status === 'running' || job.status === 'queued'
      ? h('progress', { class: 'job-progress', max: 100, value: percent, 'aria-label': `${percent}% done`,
        dataset: { testid: 'job-progress' } })
      : null,
    a ? h('p', { class: 'master-figures', dataset: { testid: 'job-source' } },
      `Source: ${db(a.integrated_lufs, 'LUFS')}, LRA ${db(a.loudness_range_lu, 'LU')}, true peak `,
      `${db(a.true_peak_dbtp, 'dBTP')}, ${a.clipped_samples} clipped samples, `,
      `${a.duration_seconds.toFixed(1)} s`) : null,
    job.error ? h('p', { class: 'panel-msg', dataset: { testid: 'job-error' } }, job.error.message) : null,
    job.results && job.results.report
      ? h('a', { href: content(job.results.report.file_id), download: 'loudness-report.json',
        dataset: { testid: 'job-report' } }, 'Loudness report (JSON)')
      : null,
    masters.length ? h('ul', { class: 'master-list' }, masters.map(masterItem)) : null);
}

let timer = null;
let shown = '';

async function refresh() {
  clearTimeout(timer);
  try {
    const { items } = await api('/api/v2/agents/ari/jobs?limit=20');
    msg.textContent = items.length ? '' : 'No mastering jobs yet.';
    const key = JSON.stringify(items);
    if (key !== shown) {
      // Redrawn only when something changed, so images are not reloaded every poll.
      shown = key;
      clear(list).append(...items.map(jobItem));
    }
    if (items.some((j) => j.status === 'queued' || j.status === 'running')) timer = setTimeout(refresh, POLL_MS);
  } catch (err) {
    msg.textContent = `Mastering jobs are unavailable: ${errorText(err)}`;
  }
}

export function initAudio() {
  $('#audio-refresh').addEventListener('click', refresh);
  $('#tab-audio').addEventListener('click', refresh);
  refresh();
}
