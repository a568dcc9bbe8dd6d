// Shared by the browser scenarios: the stack's addresses (from tests/browser/test_ui.py),
// headless Chromium through playwright-core, screenshots, and waiting for the page.

import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// playwright-core is a devDependency of the frontend: resolve it from there.
const require = createRequire(path.join(ROOT, 'services', 'frontend', 'package.json'));
const { chromium } = require('playwright-core');

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these scripts through tests/browser/test_ui.py`);
  return value;
}

export const E2E = {
  url: need('SKYRAS_E2E_URL'),
  hubUrl: need('SKYRAS_E2E_HUB_URL'),
  statePath: need('SKYRAS_E2E_STATE'),
  artifacts: process.env.SKYRAS_E2E_ARTIFACTS || path.join(ROOT, 'test-artifacts', 'browser'),
  chromium: process.env.SKYRAS_E2E_CHROMIUM || '/usr/bin/chromium',
};

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DESKTOP = { viewport: { width: 1440, height: 900 } };
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/**
 * A fresh browser (its own new user-data-dir) with one page on the app.
 * Uncaught page errors are collected in `problems` and fail `close({ check: true })`.
 */
export async function openApp(options = DESKTOP, { hash = '' } = {}) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'skyras-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: E2E.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    locale: 'en-US',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
    ...options,
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  const consoleErrors = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  await page.goto(E2E.url + '/' + hash);
  return {
    context,
    page,
    problems,
    consoleErrors,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

let shotNumber = 0;
/** Saves test-artifacts/browser/<scenario>-NN-<step>.png and returns its path. */
export async function shot(page, scenario, step) {
  mkdirSync(E2E.artifacts, { recursive: true });
  shotNumber += 1;
  const file = path.join(E2E.artifacts, `${scenario}-${String(shotNumber).padStart(2, '0')}-${step}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  return file;
}

/** Waits until `await fn()` is truthy (returns it), or fails with `what` and the last value seen. */
export async function eventually(fn, what, { timeout = 20_000, every = 200 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` +
        ` (last value: ${JSON.stringify(last)}${lastError ? `, last error: ${lastError.message}` : ''})`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The page is connected: hub pill up, live feed open, the agents listed healthy. */
export async function waitForConnected(page, agents = ['letitia', 'marcus']) {
  await page.locator('[data-testid=hub-status][data-state=up]').waitFor();
  await page.locator('[data-testid=feed-status][data-state=live]').waitFor();
  for (const name of agents) {
    await page.locator(`[data-testid=agent-row][data-agent=${name}][data-status=healthy]`).waitFor({ state: 'attached' });
  }
}

/** Types into the chat as a person would (click, type, Enter). */
export async function say(page, text) {
  const input = page.getByTestId('chat-input');
  await input.click();
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press('Enter');
}

/** The runner's state.json (pids and ports of what `skyras up` started). */
export function runnerState() {
  return JSON.parse(readFileSync(E2E.statePath, 'utf8'));
}

/** True when nothing on the page is wider than the viewport (no sideways scrolling). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width && el.offsetParent !== null && r.right > width + 1) {
        wide.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.dataset.testid ? `[${el.dataset.testid}]` : ''} right=${Math.round(r.right)}`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10) };
  });
}

/**
 * `it(name, fn)` for one step of a scenario on `app.page`: when it fails, the page is
 * screenshotted as <scenario>-FAILED-<step>.png and the browser's own errors are added.
 */
export function stepper(it, scenario, getApp) {
  let failed = null;
  return (name, fn) => it(name, async (t) => {
    if (failed) {
      t.skip(`an earlier step failed: ${failed}`);
      return;
    }
    try {
      await fn();
    } catch (err) {
      failed = name;
      const app = getApp();
      if (app) {
        const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60);
        const file = await shot(app.page, scenario, `FAILED-${slug}`).catch(() => null);
        err.message += `\n  screenshot: ${file}\n  console errors: ${JSON.stringify(app.consoleErrors.slice(-10))}` +
          `\n  page errors: ${JSON.stringify(app.problems)}`;
      }
      throw err;
    }
  });
}
