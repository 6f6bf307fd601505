import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../scripts/stack/start.ts';
import { startStackWithBrowser } from './harness.ts';

// The whole path a user takes, on the stack `npm start` runs (functions,
// page, local builder and runner) over this run's emulators: deploy a real
// npm server from the wizard, watch its lines arrive, see it live.
let stack: Stack;
let browser: Browser;
let stopAll: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ stack, browser, stop: stopAll } = await startStackWithBrowser('e2e'));
}, 120_000);

afterAll(async () => {
  await stopAll?.();
});

async function signIn(page: Page) {
  await page.goto(`${stack.urls.web}/deploy`);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('source-type').waitFor();
}

describe('deploying from the wizard', () => {
  it('deploys server-everything and shows lines as they arrive, then live and its tools', async () => {
    const page = await browser.newPage();
    await signIn(page);
    await page.getByTestId('source-type').selectOption('npm');
    await page
      .getByTestId('source-spec')
      .fill('@modelcontextprotocol/server-everything@2026.8.31');
    await page.getByTestId('package-name').fill('Everything');
    await page.getByTestId('deploy-submit').click();

    await page.waitForURL(/\/mcp\/[a-z0-9]+\?new=true&deploying=true$/);
    await expect
      .poll(() =>
        page.getByTestId('deployment-status').getAttribute('data-status'),
      )
      .toMatch(/queued|building|deploying|verifying|live/);

    // Lines show while the build runs, not only at its end.
    await page.getByTestId('log-line').first().waitFor({ timeout: 60_000 });
    const statusWhenLinesShowed = await page
      .getByTestId('deployment-status')
      .getAttribute('data-status');
    expect(statusWhenLinesShowed).not.toBe('live');
    // The timeline follows the build's steps while it runs: source done,
    // build running, before the build has finished.
    await page
      .locator('[data-step="build"].step-running')
      .waitFor({ timeout: 60_000 });
    expect(
      await page.locator('[data-step="source"]').getAttribute('class'),
    ).toContain('step-done');

    await page
      .locator('[data-testid="deployment-status"][data-status="live"]')
      .waitFor({ timeout: 240_000 });
    // The package's tools are recorded a moment after the status turns live.
    await page.getByTestId('tool').first().waitFor();
    const tools = await page.getByTestId('tool').allTextContents();
    expect(tools.some((t) => t.includes('echo'))).toBe(true);
    const url = await page.getByTestId('server-url').textContent();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp/);

    // The log holds real npm output and the pipeline's own lines.
    const lines = await page.getByTestId('log-line').allTextContents();
    expect(lines.some((l) => l.includes('Verified:'))).toBe(true);
    await page.close();
  }, 300_000);

  it('shows a bad source inline and stays on the wizard', async () => {
    const page = await browser.newPage();
    await signIn(page);
    await page.getByTestId('source-type').selectOption('npm');
    await page.getByTestId('source-spec').fill('left-pad; rm -rf /');
    await page.getByTestId('package-name').fill('Bad');
    await page.getByTestId('deploy-submit').click();
    await expect
      .poll(() => page.locator('body').textContent())
      .toMatch(/npm package name/);
    expect(new URL(page.url()).pathname).toBe('/deploy');
    await page.close();
  }, 60_000);
});
