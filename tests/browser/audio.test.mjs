// The audio panel: a mix uploaded to the library is mastered from the chat
// ("@ari master … for podcast and streaming"); the Audio tab shows the job's progress, the
// source's loudness, each master's figures, its waveform picture and a download that works.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, shot, eventually, waitForConnected, say, stepper, E2E, DESKTOP } from './helpers.mjs';

const SCENARIO = 'audio';
const FILENAME = 'night-drive-mix.wav';

/** A real WAV: 16-bit stereo 48 kHz, 20 s of two tones with a swell (not silent, not clipped). */
function wav(seconds = 20, rate = 48000) {
  const frames = seconds * rate;
  const buf = Buffer.alloc(44 + frames * 4);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(2, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 4, 28);
  buf.writeUInt16LE(4, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(frames * 4, 40);
  for (let i = 0; i < frames; i += 1) {
    const swell = 0.3 + 0.7 * Math.abs(Math.sin((Math.PI * i) / (rate * 5)));
    const left = 9000 * swell * Math.sin((2 * Math.PI * 220 * i) / rate);
    const right = 9000 * swell * Math.sin((2 * Math.PI * 330 * i) / rate);
    buf.writeInt16LE(Math.round(left), 44 + i * 4);
    buf.writeInt16LE(Math.round(right), 46 + i * 4);
  }
  return buf;
}

describe('mastering from the chat, followed in the audio panel (desktop)', () => {
  let app;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    const form = new FormData();
    form.append('file', new Blob([wav()], { type: 'audio/wav' }), FILENAME);
    const res = await fetch(`${E2E.hubUrl}/api/v2/agents/letitia/upload`, { method: 'POST', body: form });
    assert.equal(res.status, 201, await res.text());
    app = await openApp(DESKTOP);
  });
  after(async () => {
    if (app) await app.close();
  });

  step('asking Ari in the chat queues the job', async () => {
    const { page } = app;
    await waitForConnected(page, ['letitia', 'marcus', 'ari']);
    await say(page, `@ari master ${FILENAME} for podcast and streaming`);
    const reply = page.locator('[data-testid=chat-message-agent][data-agent=ari]').last();
    await reply.waitFor();
    assert.match(await reply.innerText(), new RegExp(`Mastering ${FILENAME}`));
    await shot(page, SCENARIO, 'chat');
  });

  step('the audio tab shows the job until it completes, with both masters', async () => {
    const { page } = app;
    await page.getByTestId('tab-audio').click();
    const job = page.locator('[data-testid=job]').first();
    await job.waitFor();
    assert.match(await job.innerText(), new RegExp(FILENAME));
    await page.locator('[data-testid=job][data-status=completed]').first().waitFor({ timeout: 120_000 });
    const done = page.locator('[data-testid=job][data-status=completed]').first();
    assert.match(await done.getByTestId('job-source').innerText(), /LUFS/);
    const presets = await done.getByTestId('master').evaluateAll((els) => els.map((e) => e.dataset.preset));
    assert.deepEqual(presets.sort(), ['podcast', 'streaming']);
    const figures = await done.getByTestId('master-figures').allInnerTexts();
    for (const text of figures) {
      const [measured, target] = [...text.matchAll(/(-?\d+(?:\.\d+)?) LUFS|target (-?\d+(?:\.\d+)?)/g)]
        .map((m) => Number(m[1] ?? m[2]));
      assert.ok(Math.abs(measured - target) <= 0.5, `${text}: within 0.5 LU of the target`);
    }
    await shot(page, SCENARIO, 'masters');
  });

  step('each master shows its waveform and downloads as audio', async () => {
    const { page } = app;
    const done = page.locator('[data-testid=job][data-status=completed]').first();
    const sizes = await eventually(async () => {
      const s = await done.getByTestId('master-waveform').evaluateAll((imgs) => imgs.map((i) => i.naturalWidth));
      return s.length === 2 && s.every((w) => w > 0) && s;
    }, 'both waveform pictures loaded');
    assert.deepEqual(sizes, [1200, 1200]);
    const links = await done.getByTestId('master-download').evaluateAll((as) => as.map((a) => a.href));
    for (const href of links) {
      const res = await page.evaluate(async (url) => {
        const r = await fetch(url);
        const body = new Uint8Array(await r.arrayBuffer());
        return { status: r.status, type: r.headers.get('content-type'), riff: String.fromCharCode(...body.slice(0, 4)) };
      }, href);
      assert.equal(res.status, 200);
      assert.match(res.type, /^audio\/(x-)?wav$/);
      assert.equal(res.riff, 'RIFF', 'a WAV file');
    }
    const report = await done.getByTestId('job-report').getAttribute('href');
    const body = await page.evaluate(async (url) => (await fetch(url)).json(), report);
    assert.equal(body.masters.length, 2);
    await shot(page, SCENARIO, 'downloads');
  });
});
