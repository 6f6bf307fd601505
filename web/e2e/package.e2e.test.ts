import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLine,
  seedDeployment,
  signedInPage,
  startHarness,
  writeChunk,
  type Harness,
} from './harness.ts';

// The package page in each state a deployment reaches, written to Firestore
// as the pipeline writes it. With SIGYL_SCREENSHOTS=1 the wizard test saves
// its screenshot in docs/screenshots (the package page's come from real
// deployments, in owner.e2e.test.ts).

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots');

async function screenshot(page: Page, name: string) {
  if (process.env.SIGYL_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: join(SCREENSHOTS, `${name}.png`),
  });
}

const BUILD_OUTPUT = [
  '\x1b[1m> Fetching @modelcontextprotocol/server-everything@2026.8.31\x1b[22m',
  'npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported',
  '',
  'added 214 packages, and audited 215 packages in 6s',
  '',
  '\x1b[32m38 packages are looking for funding\x1b[39m',
  '  run `npm fund` for details',
  '',
  'found \x1b[32m\x1b[1m0\x1b[22m\x1b[39m vulnerabilities',
];

function buildLines() {
  return BUILD_OUTPUT.map((text, i) =>
    buildLine(i + 1, text, Date.now() - 15_000),
  );
}

const poll = <T>(read: () => Promise<T> | T) =>
  expect.poll(read, { timeout: 10_000 });

describe('package page', () => {
  it('while deploying: package, status, steps, cancel, live lines', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid, {
      status: 'building',
    });
    await writeChunk(harness, deploymentId, buildLines());

    await page.goto(
      `${harness.webUrl}/mcp/${packageId}?new=true&deploying=true`,
    );
    await page.getByRole('heading', { name: 'Everything server' }).waitFor();
    const status = page.getByTestId('deployment-status');
    expect(await status.getAttribute('data-status')).toBe('building');
    await page.getByTestId('deploy-cancel').waitFor();
    await poll(() => page.getByTestId('log-line').count()).toBe(
      BUILD_OUTPUT.length,
    );
    await poll(() => page.title()).toMatch(/^Building · Everything server/);

    // The status moves as the pipeline writes it.
    await harness.db.doc(`deployments/${deploymentId}`).update({
      status: 'deploying',
    });
    await poll(() => status.getAttribute('data-status')).toBe('deploying');
    await page.context().close();
  });

  it('when live: the URL, the tools and client setup', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid, {
      status: 'live',
      package: {
        tools: [
          { name: 'echo', description: 'Echoes back the input' },
          { name: 'add', description: 'Adds two numbers' },
          { name: 'longRunningOperation', description: 'Reports progress' },
        ],
      },
      deployment: { finishedAt: new Date().toISOString() },
    });
    await writeChunk(harness, deploymentId, [
      ...buildLines(),
      buildLine(20, 'Verified: MCP 2025-06-18, 3 tools', Date.now() - 15_000, {
        source: 'system',
      }),
    ]);

    await page.goto(`${harness.webUrl}/mcp/${packageId}`);
    await page.getByTestId('server-url').waitFor();
    expect(await page.getByTestId('server-url').textContent()).toBe(
      'http://127.0.0.1:40123/mcp',
    );
    expect(await page.getByTestId('tool').count()).toBe(3);
    expect(await page.getByTestId('tools-list').textContent()).toContain(
      'Echoes back the input',
    );
    await page.getByRole('tab', { name: 'Cursor' }).click();
    expect(await page.getByRole('tabpanel').textContent()).toContain(
      '"url": "http://127.0.0.1:40123/mcp"',
    );
    expect(await page.getByTestId('deploy-cancel').count()).toBe(0);
    await poll(() => page.getByTestId('log-line').count()).toBe(
      BUILD_OUTPUT.length + 1,
    );
    await page.context().close();
  });

  it('when failed: the step, the reason, the last lines and retry', async () => {
    const { page, uid } = await signedInPage(harness);
    const tail = [
      'npm error code E404',
      'npm error 404 Not Found - GET https://registry.npmjs.org/@acme%2fmissing-server',
    ];
    const { packageId, deploymentId } = await seedDeployment(harness, uid, {
      status: 'failed',
      deployment: {
        error: {
          step: 'build',
          message: 'npm install exited with code 1',
          tail,
        },
        finishedAt: new Date().toISOString(),
      },
    });
    await writeChunk(
      harness,
      deploymentId,
      tail.map((text, i) =>
        buildLine(i + 1, `\x1b[31m${text}\x1b[39m`, Date.now() - 5000, {
          stream: 'stderr',
        }),
      ),
    );

    await page.goto(
      `${harness.webUrl}/mcp/${packageId}?new=true&deploying=true`,
    );
    const reason = page.getByTestId('failure-reason');
    await reason.waitFor();
    expect(await reason.textContent()).toBe('npm install exited with code 1');
    expect(await page.getByTestId('deployment-status').textContent()).toContain(
      'Failed at build',
    );
    expect(await page.locator('.failure .tail').textContent()).toContain(
      'npm error code E404',
    );
    await page.getByTestId('deploy-retry').waitFor();
    await poll(() => page.title()).toMatch(/^Failed · /);
    await poll(() => page.getByTestId('log-line').count()).toBe(2);
    await page.context().close();
  });

  it('works on a narrow screen and by keyboard, with line links', async () => {
    const { page, uid } = await signedInPage(harness, {
      width: 390,
      height: 844,
    });
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    await writeChunk(
      harness,
      deploymentId,
      Array.from({ length: 300 }, (_, i) => buildLine(i + 1, `step ${i + 1}`)),
    );

    await page.goto(`${harness.webUrl}/mcp/${packageId}#L120`);
    const target = page.locator('[data-line="120"]');
    await target.waitFor();
    expect(await target.getAttribute('class')).toContain('target');
    expect(await target.isVisible()).toBe(true);
    // Nothing wider than the screen but the log's own scrolling.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);

    const viewer = page.getByTestId('log-viewer');
    expect(await viewer.getAttribute('role')).toBe('log');
    await viewer.focus();
    await page.keyboard.press('End');
    await poll(() =>
      page.getByTestId('log-line').last().getAttribute('data-line'),
    ).toBe('300');
    await page.context().close();
  });
});

describe('deploy wizard', () => {
  it('derives name and slug from the source and shows missing fields inline', async () => {
    const { page } = await signedInPage(harness);
    await page.goto(`${harness.webUrl}/deploy`);
    await page.getByTestId('deploy-submit').click();
    const urlError = page.locator('#source\\.url-error');
    expect(await urlError.textContent()).toBe('Enter a GitHub repository URL.');
    expect(
      await page.getByTestId('source-url').getAttribute('aria-invalid'),
    ).toBe('true');

    await page.getByTestId('source-type').selectOption('npm');
    await page
      .getByTestId('source-spec')
      .fill('@modelcontextprotocol/server-everything@2026.8.31');
    expect(await page.getByTestId('package-name').inputValue()).toBe(
      'server-everything',
    );
    await page.getByTestId('package-name').fill('My Everything Server');
    expect(await page.locator('.hint code').textContent()).toBe(
      'my-everything-server',
    );
    expect(
      await page.getByTestId('source-type').locator('option').allTextContents(),
    ).toHaveLength(3);
    expect(await page.locator('.field-error').count()).toBe(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'deploy');
    await page.context().close();
  });
});
