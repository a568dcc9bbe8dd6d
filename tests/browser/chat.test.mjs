// Chat on a desktop screen: "create a task to master the single, high priority" makes
// Marcus create the task, which shows as a card, in the tasks panel and as task.created
// in the live feed; then the task is completed from the tasks panel.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, shot, eventually, waitForConnected, say, stepper, DESKTOP } from './helpers.mjs';

const SCENARIO = 'chat';
const MESSAGE = 'create a task to master the single, high priority';

describe('chat creates a task (desktop)', () => {
  let app;
  let taskId;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    app = await openApp(DESKTOP);
  });
  after(async () => {
    if (app) await app.close();
  });

  step('the page connects to the hub, the live feed and both agents', async () => {
    const { page } = app;
    await waitForConnected(page);
    assert.equal(await page.title(), 'SkyRas');
    // On a wide screen the chat and the live feed are visible beside the tasks panel.
    for (const panel of ['chat', 'tasks', 'activity']) {
      assert.ok(await page.locator(`[data-panel=${panel}]`).isVisible(), `the ${panel} panel is visible`);
    }
    assert.ok(await page.getByTestId('chat-input').isVisible());
    assert.equal(await page.getByTestId('banners').locator('.banner').count(), 0, 'no banner while all is well');
    await shot(page, SCENARIO, 'ready');
  });

  step('typing the request in the chat gets a reply from Marcus with a task card', async () => {
    const { page } = app;
    await say(page, MESSAGE);
    const mine = page.getByTestId('chat-message-user').last();
    await mine.waitFor();
    assert.match(await mine.innerText(), /master the single, high priority/);
    assert.equal(await page.getByTestId('chat-input').inputValue(), '', 'the input is cleared');

    const reply = page.locator('[data-testid=chat-message-agent][data-agent=marcus]').last();
    await reply.waitFor();
    assert.match(await reply.locator('[data-testid=chat-agent-name]').innerText(), /^Marcus$/);
    assert.match(await reply.innerText(), /master the single/i);
    const card = reply.getByTestId('chat-task-card');
    await card.waitFor();
    taskId = await card.getAttribute('data-task-id');
    assert.ok(taskId, 'the card carries the task id');
    assert.match(await card.innerText(), /High/);
    assert.equal(await page.getByTestId('chat-error').count(), 0);
    await shot(page, SCENARIO, 'marcus-replied');
  });

  step('the task appears in the tasks panel with high priority', async () => {
    const { page } = app;
    await page.getByTestId('tab-tasks').click();
    const item = page.locator(`[data-testid=task-item][data-task-id="${taskId}"]`);
    await item.waitFor();
    assert.equal(await item.getAttribute('data-priority'), 'high');
    assert.equal(await item.getAttribute('data-status'), 'pending');
    assert.match(await item.locator('.item-title').innerText(), /^Master the single$/i);
    assert.ok(await item.isVisible());
  });

  step('task.created for that task arrives in the live event feed', async () => {
    const { page } = app;
    const event = page.locator('[data-testid=event-item][data-type="task.created"]', { hasText: taskId });
    await event.waitFor();
    assert.match(await event.innerText(), /Task created: Master the single/i);
    assert.match(await event.innerText(), /from marcus/);
    await shot(page, SCENARIO, 'task-in-panel-and-feed');
  });

  step('the card opens the task in the tasks panel', async () => {
    const { page } = app;
    const card = page.locator(`[data-testid=chat-task-card][data-task-id="${taskId}"]`).first();
    await card.getByRole('button', { name: /Open in Tasks/ }).click();
    const item = page.locator(`[data-testid=task-item][data-task-id="${taskId}"]`);
    await eventually(() => item.evaluate((el) => el === document.activeElement), 'the task to have the focus');
  });

  step('completing the task from the panel shows it completed and task.updated in the feed', async () => {
    const { page } = app;
    const item = page.locator(`[data-testid=task-item][data-task-id="${taskId}"]`);
    await item.getByTestId('task-complete').click();
    await page.locator(`[data-testid=task-item][data-task-id="${taskId}"][data-status=completed]`).waitFor();
    const event = page.locator('[data-testid=event-item][data-type="task.updated"]', { hasText: taskId });
    await event.waitFor();
    assert.match(await event.innerText(), /Completed/);
    await shot(page, SCENARIO, 'task-completed');
    assert.deepEqual(app.problems, [], 'no uncaught errors on the page');
  });
});
