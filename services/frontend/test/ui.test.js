'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');
const { startFrontend, freePort, request } = require('./helpers');
const { PUBLIC_DIR } = require('../lib/app');

const JS_DIR = path.join(PUBLIC_DIR, 'js');
const html = fs.readFileSync(path.join(PUBLIC_DIR, 'index.html'), 'utf8');

// The UI's modules are browser ES modules; this package is CommonJS, so tests load a copy
// of public/js marked as ESM.
let esmDir;
test.before(() => {
  esmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skyras-ui-'));
  for (const f of fs.readdirSync(JS_DIR)) fs.copyFileSync(path.join(JS_DIR, f), path.join(esmDir, f));
  fs.writeFileSync(path.join(esmDir, 'package.json'), '{"type":"module"}');
});
test.after(() => fs.rmSync(esmDir, { recursive: true, force: true }));

test('UI: served with its assets, a strict CSP and no-cache', async (t) => {
  const port = await freePort();
  const fe = await startFrontend({ SKYRAS_HUB_URL: `http://127.0.0.1:${port}` });
  t.after(() => fe.stop());
  const page = await request(`${fe.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.headers['content-security-policy'], /script-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['cache-control'], 'no-cache');
  const refs = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
  const modules = fs.readdirSync(JS_DIR).map((f) => `/js/${f}`);
  assert.ok(refs.includes('/js/app.js') && refs.includes('/css/app.css'));
  for (const ref of new Set([...refs, ...modules])) {
    const res = await request(fe.url + ref);
    assert.equal(res.status, 200, ref);
    if (ref.endsWith('.js')) assert.match(res.headers['content-type'], /javascript/, ref);
    if (ref.endsWith('.css')) assert.match(res.headers['content-type'], /text\/css/, ref);
  }
  // every relative import in the modules points at a served file
  for (const f of fs.readdirSync(JS_DIR)) {
    const src = fs.readFileSync(path.join(JS_DIR, f), 'utf8');
    for (const m of src.matchAll(/from '\.\/([^']+)'/g)) assert.ok(fs.existsSync(path.join(JS_DIR, m[1])), `${f} imports ${m[1]}`);
  }
});

test('UI: every module parses as an ES module', () => {
  for (const f of fs.readdirSync(esmDir).filter((x) => x.endsWith('.js'))) {
    const r = spawnSync(process.execPath, ['--check', path.join(esmDir, f)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
});

test('UI: never builds HTML from strings (no innerHTML / insertAdjacentHTML / document.write)', () => {
  for (const f of fs.readdirSync(JS_DIR)) {
    const src = fs.readFileSync(path.join(JS_DIR, f), 'utf8');
    assert.doesNotMatch(src, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/, f);
  }
});

test('UI: every form control has a label, and the controls tests drive have stable test ids', () => {
  const ids = new Set([...html.matchAll(/<label[^>]*\sfor="([^"]+)"/g)].map((m) => m[1]));
  for (const m of html.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
    const attrs = m[2];
    const id = (attrs.match(/\sid="([^"]+)"/) || [])[1];
    assert.ok((id && ids.has(id)) || /aria-label=/.test(attrs), `unlabelled ${m[1]} ${attrs}`);
  }
  for (const testid of ['chat-input', 'chat-send', 'chat-log', 'task-list', 'task-form', 'task-title', 'upload-input',
    'upload-list', 'library-search', 'file-list', 'agent-list', 'event-feed', 'hub-status', 'feed-status', 'banners']) {
    assert.match(html, new RegExp(`data-testid="${testid}"`), testid);
  }
  assert.match(html, /role="log"[^>]*aria-live="polite"[^>]*data-testid="chat-log"/);
  assert.match(html, /id="event-feed"[^>]*role="log"[^>]*aria-live="polite"/);
  assert.match(html, /<html lang="en">/);
  assert.match(html, /name="viewport" content="width=device-width, initial-scale=1"/);
});

test('UI format helpers: highlights keep only <mark>, everything else stays text', async () => {
  const fmt = await import(pathToFileURL(path.join(esmDir, 'format.js')).href);
  assert.deepEqual(fmt.parseHighlight('mixed <mark>vocals</mark> take &amp; <mark>final</mark>'), [
    { text: 'mixed ', mark: false }, { text: 'vocals', mark: true }, { text: ' take & ', mark: false }, { text: 'final', mark: true },
  ]);
  // hostile markup is returned as literal text, never as elements
  const evil = fmt.parseHighlight('<img src=x onerror=alert(1)><mark><script>x</script></mark>&lt;b&gt;');
  assert.deepEqual(evil, [
    { text: '<img src=x onerror=alert(1)>', mark: false }, { text: '<script>x</script>', mark: true }, { text: '<b>', mark: false },
  ]);
  assert.deepEqual(fmt.parseHighlight(null), []);
  assert.deepEqual(fmt.parseHighlight('<MARK>a</MARK>b'), [{ text: 'a', mark: true }, { text: 'b', mark: false }]);
  assert.deepEqual(fmt.parseHighlight('<mark>unclosed'), [{ text: 'unclosed', mark: true }]);
});

test('UI format helpers: tags, sizes, due dates, event lines', async () => {
  const fmt = await import(pathToFileURL(path.join(esmDir, 'format.js')).href);
  assert.deepEqual(fmt.parseTags(' Vocals, final ,,vocals,  Two  Words '), ['vocals', 'final', 'two words']);
  assert.equal(fmt.formatBytes(0), '0 B');
  assert.equal(fmt.formatBytes(1536), '1.5 KB');
  assert.equal(fmt.formatBytes(50 * 1024 * 1024), '50 MB');
  assert.equal(fmt.formatBytes(undefined), '');
  const now = new Date(2025, 5, 11, 15, 0, 0); // Wednesday 11 June 2025, local time
  const friday = fmt.dueInfo('2025-06-13T23:59:59Z', now); // a bare due date is stored as end of day UTC
  assert.equal(friday.days, 2);
  assert.equal(friday.relative, 'in 2 days');
  assert.equal(friday.date.getDate(), 13);
  assert.equal(fmt.dueInfo('2025-06-10T23:59:59Z', now).overdue, true);
  assert.equal(fmt.dueInfo('2025-06-11T23:59:59Z', now).relative, 'today');
  assert.equal(fmt.dueInfo(null), null);
  assert.equal(fmt.dueInfo('garbage'), null);
  assert.equal(fmt.describeEvent({ type: 'task.created', data: { title: 'Master the single' } }), 'Task created: Master the single');
  assert.equal(fmt.describeEvent({ type: 'task.updated', data: { title: 'Mix', status: 'in_progress' } }), 'Task updated: Mix → In progress');
  assert.equal(fmt.describeEvent({ type: 'file.tagged', data: { filename: 'a.wav', tags: ['final'] } }), 'File tagged: a.wav (final)');
  assert.equal(fmt.describeEvent({ type: 'custom.thing', data: null }), 'Custom thing');
  assert.equal(fmt.sourceAgent('/agents/letitia'), 'letitia');
  assert.equal(fmt.label('in_progress'), 'In progress');
});
