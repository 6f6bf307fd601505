import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../scripts/stack/start.ts';
import { startStackWithBrowser } from './harness.ts';

// What the owner does on the package page while a deployment runs, on the
// stack `npm start` runs: edit the package, cancel, retry, and find the
// earlier deployment in the list.
let stack: Stack;
let browser: Browser;
let stopAll: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ stack, browser, stop: stopAll } = await startStackWithBrowser('owner'));
}, 120_000);

afterAll(async () => {
  await stopAll?.();
});

const poll = <T>(read: () => Promise<T> | T, timeout = 60_000) =>
  expect.poll(read, { timeout });

// With SIGYL_SCREENSHOTS=1, the page of real deployments is saved in
// docs/screenshots: every line in them came from a real build.
async function screenshot(page: Page, name: string, fullPage = false) {
  if (process.env.SIGYL_SCREENSHOTS !== '1') return;
  const folder = join(import.meta.dirname, '../../docs/screenshots');
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage });
}

async function deploy(page: Page, spec: string, name: string) {
  await page.goto(`${stack.urls.web}/deploy`);
  await page.getByTestId('source-type').selectOption('npm');
  await page.getByTestId('source-spec').fill(spec);
  await page.getByTestId('package-name').fill(name);
  await page.getByTestId('deploy-submit').click();
  await page.waitForURL(/\/mcp\/[a-z0-9]+\?new=true&deploying=true$/);
}

describe('owner actions', () => {
  it('edits the package while it deploys, cancels, retries', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.urls.web}/deploy`);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('source-type').selectOption('npm');
    await page.getByTestId('source-spec').fill('left-pad@1.3.0');
    await page.getByTestId('package-name').fill('Pad');
    await page.getByTestId('deploy-submit').click();
    await page.waitForURL(/\/mcp\/[a-z0-9]+\?new=true&deploying=true$/);
    await page.getByRole('heading', { name: 'Pad' }).waitFor();

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Name').fill('Pad tools');
    await page.getByLabel('Description').fill('Pads strings on the left.');
    await page.getByLabel('Visibility').selectOption('public');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Pad tools' }).waitFor();
    expect(await page.locator('.package-header').textContent()).toContain(
      'Pads strings on the left.',
    );
    expect(await page.locator('.package-header').textContent()).toContain(
      'public',
    );

    const status = page.getByTestId('deployment-status');
    const cancel = page.getByTestId('deploy-cancel');
    if (await cancel.isVisible()) await cancel.click();
    await poll(() => status.getAttribute('data-status')).toMatch(
      /cancelled|failed/,
    );
    const first = new URL(page.url()).pathname;

    await page.getByTestId('deploy-retry').click();
    await poll(() => status.getAttribute('data-status')).toMatch(
      /queued|building|deploying|verifying/,
    );
    expect(new URL(page.url()).pathname).toBe(first);
    const history = page.getByRole('region', { name: 'Deployments' });
    await poll(() => history.getByRole('listitem').count()).toBe(2);
    await page.close();
  }, 180_000);

  it('shows a real deployment building, live, and a real failure', async () => {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
    });
    await page.goto(`${stack.urls.web}/deploy`);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('source-type').waitFor();

    await deploy(
      page,
      '@modelcontextprotocol/server-everything@2026.8.31',
      'Everything',
    );
    const status = page.getByTestId('deployment-status');
    await poll(
      () => page.getByTestId('log-line').count(),
      120_000,
    ).toBeGreaterThan(3);
    if ((await status.getAttribute('data-status')) !== 'live') {
      await screenshot(page, 'deploying');
    }
    await page
      .locator('[data-testid="deployment-status"][data-status="live"]')
      .waitFor({ timeout: 240_000 });
    await page.getByTestId('tools-list').waitFor();
    await screenshot(page, 'live', true);

    await deploy(page, '@sigyl-e2e/no-such-server@1.0.0', 'Missing');
    await page
      .locator('[data-testid="deployment-status"][data-status="failed"]')
      .waitFor({ timeout: 120_000 });
    const reason = page.getByTestId('failure-reason');
    expect((await reason.textContent())?.length).toBeGreaterThan(0);
    await page.getByTestId('deploy-retry').waitFor();
    await screenshot(page, 'failed', true);
    await page.close();
  }, 400_000);
});
