// The chat scenario on a phone-sized screen (390x844, touch): each section is a tab,
// nothing scrolls sideways, and the task reaches the Tasks and Activity tabs.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, shot, waitForConnected, say, stepper, horizontalOverflow, PHONE } from './helpers.mjs';

const SCENARIO = 'phone';
const MESSAGE = 'create a task to master the single, high priority';

async function noSidewaysScroll(page, where) {
  const o = await horizontalOverflow(page);
  assert.ok(o.scrollWidth <= o.width, `${where}: the page is ${o.scrollWidth}px wide on a ${o.width}px screen: ${o.wide.join(', ')}`);
  assert.deepEqual(o.wide, [], `${where}: nothing sticks out past the right edge (${o.width}px)`);
  // The section tabs all fit, badges included (none hides in a scrolled tab bar).
  const tabs = await page.locator('#tabs').evaluate((nav) => ({ scroll: nav.scrollWidth, client: nav.clientWidth }));
  assert.ok(tabs.scroll <= tabs.client, `${where}: the tab bar needs ${tabs.scroll}px, has ${tabs.client}px`);
}

describe('chat creates a task (phone)', () => {
  let app;
  let taskId;
  const step = stepper(it, SCENARIO, () => app);

  before(async () => {
    app = await openApp(PHONE);
  });
  after(async () => {
    if (app) await app.close();
  });

  step('the chat is the first screen and fits the phone', async () => {
    const { page } = app;
    await waitForConnected(page);
    assert.ok(await page.getByTestId('chat-input').isVisible());
    assert.ok(await page.getByTestId('chat-send').isVisible());
    assert.ok(await page.getByTestId('tab-chat').isVisible(), 'on a phone the chat has its own tab');
    assert.equal(await page.getByTestId('tab-chat').getAttribute('aria-selected'), 'true');
    assert.equal(await page.getByTestId('task-list').isVisible(), false, 'one section at a time');
    await noSidewaysScroll(page, 'chat');
    const box = await page.getByTestId('chat-input').boundingBox();
    assert.ok(box.y + box.height <= 844, `the chat input is on screen (bottom at ${box.y + box.height})`);
    await shot(page, SCENARIO, 'chat');
  });

  step('typing the request gets Marcus\'s reply with a task card', async () => {
    const { page } = app;
    await say(page, MESSAGE);
    const reply = page.locator('[data-testid=chat-message-agent][data-agent=marcus]').last();
    await reply.waitFor();
    const card = reply.getByTestId('chat-task-card');
    await card.waitFor();
    taskId = await card.getAttribute('data-task-id');
    assert.ok(taskId);
    assert.ok(await card.isVisible(), 'the card is scrolled into view');
    await noSidewaysScroll(page, 'chat with a reply');
    await shot(page, SCENARIO, 'marcus-replied');
  });

  step('the Tasks tab lists the task', async () => {
    const { page } = app;
    await page.getByTestId('tab-tasks').tap();
    assert.equal(await page.getByTestId('tab-tasks').getAttribute('aria-selected'), 'true');
    const item = page.locator(`[data-testid=task-item][data-task-id="${taskId}"]`);
    await item.waitFor({ state: 'visible' });
    assert.equal(await item.getAttribute('data-priority'), 'high');
    assert.equal(await page.getByTestId('chat-input').isVisible(), false);
    await noSidewaysScroll(page, 'tasks');
    await shot(page, SCENARIO, 'tasks-tab');
  });

  step('the Activity tab shows task.created for it', async () => {
    const { page } = app;
    await page.getByTestId('tab-activity').tap();
    const event = page.locator('[data-testid=event-item][data-type="task.created"]', { hasText: taskId });
    await event.waitFor({ state: 'visible' });
    await noSidewaysScroll(page, 'activity');
    await shot(page, SCENARIO, 'activity-tab');
    assert.deepEqual(app.problems, [], 'no uncaught errors on the page');
  });
});
