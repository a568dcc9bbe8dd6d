// Releases on a desktop screen: the release test_ui.py published from an uploaded mix and
// artwork shows in the Releases panel with its podcast channel published and the show's
// feed linked; then "@jamal schedule Day Drive for friday 9am on the podcast feed" in the
// chat moves the scheduled one, and the panel shows its new time.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, shot, eventually, waitForConnected, say, stepper, DESKTOP } from './helpers.mjs';

const SCENARIO = 'releases';

describe('releases panel (desktop)', () => {
  let app;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    app = await openApp(DESKTOP);
  });
  after(async () => {
    if (app) await app.close();
  });

  step('the Releases tab lists the published release, channel by channel', async () => {
    const { page } = app;
    await waitForConnected(page, ['jamal', 'letitia', 'marcus']);
    await page.getByTestId('tab-releases').click();
    const row = page.locator('[data-testid=release-row]', { hasText: 'Night Drive' });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'published');
    assert.equal(await row.getByTestId('release-status').innerText(), 'Published');
    const podcast = row.locator('[data-testid=release-channel][data-channel=podcast]');
    assert.equal(await podcast.innerText(), 'Podcast: Published');
    assert.match(await row.innerText(), /The Night Shift/);
    const feed = page.getByTestId('show-feed').first();
    assert.match(await feed.innerText(), /Night Drive Sessions — podcast feed/);
    assert.match(await feed.getAttribute('href'), /\/api\/v2\/agents\/jamal\/shows\/night-drive\/feed\.xml$/);
    await shot(page, SCENARIO, 'published');
  });

  step('chat reschedules the other release, and the panel shows it', async () => {
    const { page } = app;
    await say(page, '@jamal schedule Day Drive for friday 9am on the podcast feed');
    const reply = page.locator('[data-testid=chat-message-agent][data-agent=jamal]').last();
    await reply.waitFor();
    assert.match(await reply.innerText(), /Scheduled "Day Drive" for Friday .* at 09:00 UTC on podcast\./);
    const row = page.locator('[data-testid=release-row]', { hasText: 'Day Drive' });
    await eventually(async () => /Fri|09:00/.test(await row.innerText()) && /09:00 UTC/.test(await row.innerText()),
      'the Day Drive row to show its new time', { timeout: 15_000 });
    assert.equal(await row.getAttribute('data-status'), 'scheduled');
    await shot(page, SCENARIO, 'rescheduled');
  });
});
