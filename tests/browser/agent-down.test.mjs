// Stopping an agent: Letitia's process (its pid from the runner's state.json) gets SIGTERM;
// the agents panel shows her down, a banner says so, the chat says so when she is
// addressed ("@letitia find vocals"), and Marcus keeps working. Runs last: it leaves
// Letitia stopped.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, shot, eventually, waitForConnected, say, stepper, runnerState, DESKTOP } from './helpers.mjs';

const SCENARIO = 'agent-down';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a stopped agent shows down (desktop)', () => {
  let app;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    app = await openApp(DESKTOP);
  });
  after(async () => {
    if (app) await app.close();
  });

  step('the agents panel shows Marcus and Letitia healthy', async () => {
    const { page } = app;
    await waitForConnected(page);
    await page.getByTestId('tab-agents').click();
    for (const name of ['marcus', 'letitia']) {
      const row = page.locator(`[data-testid=agent-row][data-agent=${name}]`);
      await row.waitFor({ state: 'visible' });
      assert.equal(await row.getByTestId('agent-status').innerText(), 'Healthy');
    }
    assert.equal(await page.getByTestId('agents-overall').innerText(), 'All healthy');
    await shot(page, SCENARIO, 'all-healthy');
  });

  step('Letitia\'s process is stopped', async () => {
    const letitia = runnerState().processes.find((p) => p.name === 'letitia');
    assert.ok(letitia, 'letitia is in state.json');
    process.kill(letitia.pid, 'SIGTERM');
    await eventually(() => !alive(letitia.pid), `letitia (pid ${letitia.pid}) to exit`, { timeout: 30_000 });
  });

  step('the agents panel shows Letitia down, and a banner says the library may not work', async () => {
    const { page } = app;
    // The panel refreshes every 5 s by itself: no reload, no click.
    const row = page.locator('[data-testid=agent-row][data-agent=letitia]');
    await page.locator('[data-testid=agent-row][data-agent=letitia][data-status=down]').waitFor({ timeout: 30_000 });
    assert.equal(await row.getByTestId('agent-status').innerText(), 'Down');
    await page.locator('[data-testid=agent-row][data-agent=marcus][data-status=healthy]').waitFor();
    assert.notEqual(await page.getByTestId('agents-overall').innerText(), 'All healthy');
    const banner = page.getByTestId('banner-agent-letitia');
    await banner.waitFor({ state: 'visible' });
    assert.match(await banner.innerText(), /Letitia is down/);
    await eventually(async () => (await page.locator('#agents-badge').innerText()) === '1', 'the Agents tab badge to count 1');
    await shot(page, SCENARIO, 'letitia-down');
  });

  step('"@letitia find vocals" in the chat says that Letitia is down', async () => {
    const { page } = app;
    await say(page, '@letitia find vocals');
    const error = page.getByTestId('chat-error').last();
    await error.waitFor();
    assert.equal(await error.getAttribute('data-agent'), 'letitia');
    const text = await error.innerText();
    assert.match(text, /Letitia/);
    assert.match(text, /letitia.*(down|not answering|unavailable)/i);
    await shot(page, SCENARIO, 'chat-says-letitia-is-down');
  });

  step('Marcus still answers in the chat', async () => {
    const { page } = app;
    await say(page, '@marcus what is due this week?');
    const reply = page.locator('[data-testid=chat-message-agent][data-agent=marcus]').last();
    await reply.waitFor();
    await page.locator('[data-testid=agent-row][data-agent=marcus][data-status=healthy]').waitFor();
    await shot(page, SCENARIO, 'marcus-still-answers');
    assert.deepEqual(app.problems, [], 'no uncaught errors on the page');
  });
});
