// The library: a real 5 MiB WAV chosen through the file picker uploads with a progress
// bar (the upload is throttled so the bar is seen moving), lands in the recent files and
// the live feed, and search finds it by name (highlighted) and by a misspelling.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApp, shot, eventually, waitForConnected, stepper, DESKTOP } from './helpers.mjs';

const SCENARIO = 'library';
const FILENAME = 'starlight-vocals-take7.wav';
const SIZE = 5 * 1024 * 1024;
const UPLOAD_BYTES_PER_SECOND = 1.5 * 1024 * 1024; // ~3.5 s for the file: the bar is seen moving

/** A real WAV: 16-bit mono 44.1 kHz, a 440 Hz tone, exactly `size` bytes. */
function wav(size) {
  const buf = Buffer.alloc(size);
  const dataBytes = size - 44;
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(size - 8, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(44100, 24);
  buf.writeUInt32LE(44100 * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < dataBytes / 2; i += 1) {
    buf.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 44100)), 44 + i * 2);
  }
  return buf;
}

describe('upload with progress, then search (desktop)', () => {
  let app;
  let dir;
  let file;
  let sha256;
  let fileId;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'skyras-upload-'));
    file = path.join(dir, FILENAME);
    const bytes = wav(SIZE);
    sha256 = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(file, bytes);
    app = await openApp(DESKTOP);
  });
  after(async () => {
    if (app) await app.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  step('the library panel opens, and its type filter offers Letitia\'s file types', async () => {
    const { page } = app;
    await waitForConnected(page);
    await page.getByTestId('tab-library').click();
    await page.getByTestId('dropzone').waitFor({ state: 'visible' });
    const types = await page.getByTestId('library-search-type').locator('option')
      .evaluateAll((opts) => opts.map((o) => o.value));
    assert.deepEqual(types.filter(Boolean).sort(), ['audio', 'document', 'image', 'other', 'video']);
    await shot(page, SCENARIO, 'library-empty');
  });

  step('choosing a 5 MiB file shows its upload progressing', async () => {
    const { page } = app;
    // Record every status line the upload shows, from the first one.
    await page.evaluate(() => {
      window.__uploadStatuses = [];
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid=upload-status]')) {
          const last = window.__uploadStatuses[window.__uploadStatuses.length - 1];
          if (el.textContent !== last) window.__uploadStatuses.push(el.textContent);
        }
      }).observe(document.getElementById('upload-list'), { subtree: true, childList: true, characterData: true });
    });
    const cdp = await app.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: UPLOAD_BYTES_PER_SECOND,
    });

    await page.getByTestId('upload-tags').fill('vocals, final');
    const chooser = page.waitForEvent('filechooser');
    await page.getByText('choose files').click();
    await (await chooser).setFiles(file);

    const item = page.getByTestId('upload-item').first();
    await item.waitFor();
    assert.match(await item.innerText(), new RegExp(FILENAME.replace(/\./g, '\\.')));
    assert.match(await item.innerText(), /5 MB/);
    const bar = item.getByTestId('upload-progress');
    const midway = await eventually(async () => {
      const state = await item.getAttribute('data-state');
      const value = await bar.evaluate((el) => el.value);
      return state === 'uploading' && value > 5 && value < 90 ? value : null;
    }, 'the progress bar between 5% and 90%', { every: 50 });
    assert.match(await item.getByTestId('upload-status').innerText(), /Uploading… \d+% \(.+ of 5 MB\)/);
    await shot(page, SCENARIO, `upload-progress-${midway}pct`);

    const finished = page.locator('[data-testid=upload-item]:is([data-state=done], [data-state=error], [data-state=cancelled])');
    await finished.waitFor({ timeout: 60_000 });
    assert.equal(await item.getAttribute('data-state'), 'done',
      `the upload ended ${await item.getAttribute('data-state')}: ${await item.getByTestId('upload-status').innerText()}`);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
    });
    assert.equal(await bar.evaluate((el) => el.value), 100);
    assert.match(await item.getByTestId('upload-status').innerText(), /Uploaded/);
    const statuses = await page.evaluate(() => window.__uploadStatuses);
    const percents = statuses.map((s) => /Uploading… (\d+)%/.exec(s)).filter(Boolean).map((m) => Number(m[1]));
    assert.ok(percents.filter((p) => p > 0 && p < 100).length >= 3,
      `several intermediate percentages were shown: ${JSON.stringify(statuses)}`);
    assert.deepEqual([...percents].sort((a, b) => a - b), percents, 'the percentage only grows');
  });

  step('the file is listed with its type and tags, and file.uploaded is in the feed', async () => {
    const { page } = app;
    const listed = page.getByTestId('file-item').filter({ hasText: FILENAME });
    await listed.waitFor();
    fileId = await listed.getAttribute('data-file-id');
    assert.ok(fileId);
    assert.equal(await listed.getAttribute('data-file-type'), 'audio');
    assert.match(await listed.innerText(), /#vocals/);
    assert.match(await listed.innerText(), /#final/);
    const event = page.locator('[data-testid=event-item][data-type="file.uploaded"]', { hasText: FILENAME });
    await event.waitFor();
    await shot(page, SCENARIO, 'uploaded');
  });

  step('search by name finds it, with the word highlighted', async () => {
    const { page } = app;
    await page.getByTestId('library-search').fill('starlight');
    await page.getByTestId('library-search-submit').click();
    const hit = page.locator(`[data-testid=file-item][data-file-id="${fileId}"]`);
    await page.locator('#files-heading', { hasText: 'Results for “starlight”' }).waitFor();
    await hit.waitFor();
    const marks = await hit.getByTestId('search-highlight').locator('mark').allInnerTexts();
    assert.deepEqual(marks.map((m) => m.toLowerCase()), ['starlight']);
    assert.match(await page.locator('#files-msg').innerText(), /1 file found/);
    await shot(page, SCENARIO, 'search-by-name');
  });

  step('search with a misspelling ("starlihgt") still finds it', async () => {
    const { page } = app;
    await page.getByTestId('library-search').fill('starlihgt');
    await page.keyboard.press('Enter');
    await page.locator('#files-heading', { hasText: 'Results for “starlihgt”' }).waitFor();
    const hit = page.locator(`[data-testid=file-item][data-file-id="${fileId}"]`);
    await hit.waitFor();
    // Nothing matched word for word: no highlight line that only repeats the title.
    for (const text of await hit.getByTestId('search-highlight').allInnerTexts()) {
      assert.notEqual(text.trim(), FILENAME);
    }
    await shot(page, SCENARIO, 'search-misspelled');
  });

  step('the type filter narrows the search: audio finds it, video does not', async () => {
    const { page } = app;
    await page.getByTestId('library-search').fill('starlight');
    await page.getByTestId('library-search-type').selectOption('audio');
    await page.getByTestId('library-search-submit').click();
    await page.locator(`[data-testid=file-item][data-file-id="${fileId}"]`).waitFor();
    await page.getByTestId('library-search-type').selectOption('video');
    await page.getByTestId('library-search-submit').click();
    await page.locator('#files-msg', { hasText: 'Nothing matches' }).waitFor();
    assert.equal(await page.getByTestId('file-item').count(), 0);
    await page.getByTestId('library-search-clear').click();
    await page.locator(`[data-testid=file-item][data-file-id="${fileId}"]`).waitFor();
  });

  step('dropping two files on the drop zone uploads both, typed by their content', async () => {
    const { page } = app;
    await page.getByTestId('upload-tags').fill('');
    // A drop as the browser delivers it: a DataTransfer holding File objects.
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['Session notes: comp the lead vocal from takes 3 and 7.\n'], 'session-notes.txt', { type: 'text/plain' }));
      const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0));
      dt.items.add(new File([png], 'cover-art.png', { type: 'image/png' }));
      return dt;
    });
    for (const type of ['dragenter', 'dragover', 'drop']) {
      await page.getByTestId('dropzone').dispatchEvent(type, { dataTransfer });
    }
    for (const [name, type] of [['session-notes.txt', 'document'], ['cover-art.png', 'image']]) {
      const upload = page.getByTestId('upload-item').filter({ hasText: name });
      await upload.and(page.locator('[data-state=done]')).waitFor();
      const listed = page.getByTestId('file-item').filter({ hasText: name });
      await listed.waitFor();
      assert.equal(await listed.getAttribute('data-file-type'), type, name);
    }
    assert.equal(await page.locator('#dropzone.active').count(), 0, 'the drop zone is no longer highlighted');
    await shot(page, SCENARIO, 'dropped-two-files');
  });

  step('its download link returns the same bytes', async () => {
    const { page } = app;
    const link = page.locator(`[data-testid=file-item][data-file-id="${fileId}"]`).getByTestId('file-download');
    const download = page.waitForEvent('download');
    await link.click();
    const saved = path.join(dir, 'downloaded.wav');
    await (await download).saveAs(saved);
    assert.equal(createHash('sha256').update(readFileSync(saved)).digest('hex'), sha256);
    assert.deepEqual(app.problems, [], 'no uncaught errors on the page');
  });
});
