// Giorgio in the UI: "@giorgio make a cover for Night Drive by Aurora Lane, neon" typed in the
// chat gets Giorgio's reply, and the cover shows in the library as a picture (the 3000x3000
// JPEG served by Letitia through the hub), tagged, with creative.generated in the live feed.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, shot, eventually, waitForConnected, say, stepper, DESKTOP } from './helpers.mjs';

const SCENARIO = 'giorgio';

describe('a cover from the chat, seen in the library (desktop)', () => {
  let app;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    app = await openApp(DESKTOP);
  });
  after(async () => {
    if (app) await app.close();
  });

  step('the page connects and Giorgio is listed healthy', async () => {
    await waitForConnected(app.page, ['letitia', 'marcus', 'giorgio']);
  });

  step('the chat request gets Giorgio\'s answer', async () => {
    const { page } = app;
    await say(page, '@giorgio make a cover for Night Drive by Aurora Lane, neon');
    const reply = page.locator('[data-testid=chat-log] li', { hasText: 'Made artwork for' });
    await reply.waitFor({ timeout: 90_000 });
    assert.match(await reply.innerText(), /Night Drive.*by Aurora Lane in neon/s);
    await shot(page, SCENARIO, 'chat-reply');
  });

  step('the cover shows in the library as a picture, with Giorgio\'s tags', async () => {
    const { page } = app;
    await page.getByTestId('tab-library').click();
    await page.getByTestId('library-refresh').click();
    const item = page.locator('[data-testid=file-item]', { hasText: 'Night Drive: cover 3000x3000' });
    await item.waitFor();
    const thumb = item.getByTestId('file-thumb');
    // The list re-renders as events arrive: look the picture up again on every try.
    const size = await eventually(async () => {
      await thumb.scrollIntoViewIfNeeded({ timeout: 2000 });
      return thumb.evaluate((img) => img.complete && img.naturalWidth && [img.naturalWidth, img.naturalHeight]);
    }, 'the cover image to load');
    assert.deepEqual(size, [3000, 3000]);
    const text = await item.innerText();
    assert.match(text, /giorgio/);
    assert.match(text, /neon/);
    await shot(page, SCENARIO, 'cover-in-library');
  });

  step('creative.generated arrives in the live feed', async () => {
    const { page } = app;
    const event = page.locator('[data-testid=event-item][data-type="creative.generated"]');
    await event.first().waitFor({ state: 'attached' });
    assert.deepEqual(app.problems, [], 'no uncaught errors on the page');
  });
});
