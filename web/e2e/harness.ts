import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getApps, initializeApp } from 'firebase-admin/app';
import {
  FieldValue,
  getFirestore,
  Timestamp,
  type Firestore,
} from 'firebase-admin/firestore';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { inject } from 'vitest';
import {
  newDeploymentDoc,
  newPackageDoc,
  type DeploymentDoc,
  type DeploymentStatus,
  type LogLine,
  type PackageDoc,
  type Step,
} from '@sigyl/types';
import { freePort } from '../../scripts/stack/processes.ts';
import { startStack, type Stack } from '../../scripts/stack/start.ts';
// Brings in the type of inject('emulators').
import type {} from '../../scripts/test/global-setup.ts';

// Drives the real page in Chromium against the test run's emulators, with a
// Vite server of its own. Tests write package, deployment and log documents
// with firebase-admin exactly as the backend writes them.

const WEB_ROOT = join(import.meta.dirname, '..');

export type Harness = {
  projectId: string;
  webUrl: string;
  browser: Browser;
  db: Firestore;
  authHost: string;
  stop(): Promise<void>;
};

export async function startHarness(): Promise<Harness> {
  const emulators = inject('emulators');
  const projectId = `demo-web-${randomBytes(4).toString('hex')}`;
  const vite = await startVite({
    VITE_SIGYL_PROJECT_ID: projectId,
    VITE_SIGYL_API_URL: 'http://127.0.0.1:9',
    VITE_SIGYL_FIRESTORE_EMULATOR: emulators.firestoreHost,
    VITE_SIGYL_AUTH_EMULATOR: `http://${emulators.authHost}`,
    VITE_SIGYL_LOCAL: 'true',
  });
  const browser = await launchChromium();
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  // No metadata server here; without this firebase-admin looks for one.
  process.env.METADATA_SERVER_DETECTION = 'none';
  const app =
    getApps().find((a) => a.name === projectId) ??
    initializeApp({ projectId }, projectId);
  return {
    projectId,
    webUrl: vite.url,
    browser,
    db: getFirestore(app),
    authHost: emulators.authHost,
    async stop() {
      await browser.close();
      await vite.server.close();
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
    ],
  });
}

async function startVite(
  env: Record<string, string>,
): Promise<{ server: ViteDevServer; url: string }> {
  // Vite reads VITE_* variables from process.env when the server starts.
  Object.assign(process.env, env);
  const port = await freePort();
  const server = await createServer({
    configFile: join(WEB_ROOT, 'vite.config.ts'),
    root: WEB_ROOT,
    logLevel: 'warn',
    server: { port, host: '127.0.0.1', strictPort: true },
  });
  await server.listen();
  return { server, url: `http://127.0.0.1:${port}` };
}

// A page signed in with the one-click local sign-in, and the user's uid.
export async function signedInPage(
  harness: Harness,
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; uid: string }> {
  const context = await harness.browser.newContext({
    viewport,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  // The page's own errors, so a failing test says why.
  page.on('pageerror', (error) => console.error('[page]', error.message));
  page.on('console', (message) => {
    // Failed requests are expected while a test takes the page offline.
    const text = message.text();
    if (message.type() === 'error' && !text.startsWith('Failed to load')) {
      console.error('[page]', text);
    }
  });
  await page.goto(`${harness.webUrl}/deploy`);
  // On this shared machine the Auth emulator now and then drops a request
  // under load (the page then shows auth/network-request-failed); a user
  // would click again, and so does the test, saying so.
  for (let attempt = 1; ; attempt++) {
    await page.getByTestId('sign-in').click();
    const outcome = await Promise.race([
      page
        .getByTestId('source-type')
        .waitFor()
        .then(() => 'in'),
      page
        .locator('.sign-in .field-error')
        .waitFor()
        .then(() => 'error'),
    ]);
    if (outcome === 'in') break;
    const message = await page.locator('.sign-in .field-error').textContent();
    console.warn(`sign-in attempt ${attempt} failed: ${message}`);
    if (attempt === 3) throw new Error(`sign-in failed: ${message}`);
  }
  return { page, uid: await localUid(harness.authHost) };
}

async function localUid(authHost: string): Promise<string> {
  const response = await fetch(
    `http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=local-emulator`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'developer@sigyl.local',
        password: 'sigyl-local',
        returnSecureToken: true,
      }),
    },
  );
  if (!response.ok) throw new Error(`sign-in: ${await response.text()}`);
  return ((await response.json()) as { localId: string }).localId;
}

export function uniqueId(prefix: string): string {
  return prefix + randomBytes(5).toString('hex');
}

const STEP_ORDER = ['source', 'build', 'deploy', 'verify'] as const;

// Steps as the backend records them for a deployment that reached `status`.
export function stepsFor(status: DeploymentStatus, startedAt: number): Step[] {
  const reached: Record<DeploymentStatus, number> = {
    queued: -1,
    building: 1,
    deploying: 2,
    verifying: 3,
    live: 4,
    failed: 1,
    cancelled: 1,
  };
  const at = (s: number) => new Date(startedAt + s * 1000).toISOString();
  return STEP_ORDER.map((name, i) => {
    const current = reached[status];
    if (i < current) {
      return {
        name,
        status: 'done',
        startedAt: at(i * 9),
        finishedAt: at(i * 9 + 8),
      };
    }
    if (i === current && status === 'failed') {
      return {
        name,
        status: 'failed',
        startedAt: at(i * 9),
        finishedAt: at(i * 9 + 4),
      };
    }
    if (i === current && status !== 'live' && status !== 'cancelled') {
      return { name, status: 'running', startedAt: at(i * 9) };
    }
    return { name, status: status === 'failed' ? 'skipped' : 'pending' };
  });
}

export async function seedDeployment(
  harness: Harness,
  uid: string,
  options: {
    status?: DeploymentStatus;
    name?: string;
    package?: Partial<PackageDoc>;
    deployment?: Partial<DeploymentDoc>;
  } = {},
): Promise<{ packageId: string; deploymentId: string }> {
  const packageId = uniqueId('p');
  const deploymentId = uniqueId('d');
  const status = options.status ?? 'building';
  const now = Date.now();
  const created = new Date(now - 20_000).toISOString();
  const source = {
    type: 'npm' as const,
    spec: '@modelcontextprotocol/server-everything@2026.8.31',
  };
  const name = options.name ?? 'Everything server';
  const pkg = newPackageDoc(
    {
      ownerId: uid,
      name,
      slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      description: 'Exercises every MCP feature.',
      source,
      serviceName: `svc-${packageId}`,
      currentDeploymentId: deploymentId,
      liveDeploymentId: status === 'live' ? deploymentId : null,
      url: status === 'live' ? 'http://127.0.0.1:40123' : null,
      ...options.package,
    },
    created,
  );
  const deployment = newDeploymentDoc(
    {
      packageId,
      ownerId: uid,
      source,
      status,
      buildId: uniqueId('b'),
      url: pkg.url,
      steps: stepsFor(status, now - 20_000),
      ...options.deployment,
    },
    created,
  );
  await harness.db.doc(`packages/${packageId}`).set(pkg);
  await harness.db.doc(`deployments/${deploymentId}`).set(deployment);
  return { packageId, deploymentId };
}

// Log lines as the ingest function stores them: ids from the source entry,
// nine-digit fractional timestamps that increase line by line.
export function buildLine(
  n: number,
  text: string,
  base = Date.parse('2026-12-03T10:00:00Z'),
  extra: Partial<LogLine> = {},
): LogLine {
  const millis = base + n * 10;
  const ts = new Date(millis).toISOString().replace('Z', '') + '000000Z';
  return {
    id: `e${String(n).padStart(9, '0')}`,
    ts,
    text,
    source: 'build',
    step: 'build',
    stream: 'stdout',
    ...extra,
  };
}

export async function writeChunk(
  harness: Harness,
  deploymentId: string,
  lines: LogLine[],
): Promise<void> {
  await harness.db.collection(`deployments/${deploymentId}/logs`).add({
    lines,
    writtenAt: FieldValue.serverTimestamp(),
    expireAt: Timestamp.fromMillis(Date.now() + 30 * 86_400_000),
  });
  await harness.db.doc(`deployments/${deploymentId}`).update({
    'logStats.lines': FieldValue.increment(lines.length),
    lastLineAt: new Date().toISOString(),
  });
}

// Every rendered row of the log viewer, by its line number: scrolls the
// viewer from top to bottom, since only rows in view are in the DOM.
export async function collectRows(page: Page): Promise<Map<number, string>> {
  const rows = new Map<number, string>();
  const viewer = page.getByTestId('log-viewer');
  await viewer.evaluate((el) => {
    el.scrollTop = 0;
  });
  for (;;) {
    await page.waitForTimeout(50);
    const batch = await viewer.evaluate((el) =>
      [...el.querySelectorAll('[data-testid="log-line"]')].map((row) => [
        Number(row.getAttribute('data-line')),
        row.querySelector('.line-text')?.textContent ?? '',
      ]),
    );
    for (const [n, text] of batch) rows.set(n as number, text as string);
    const done = await viewer.evaluate((el) => {
      const before = el.scrollTop;
      el.scrollTop += el.clientHeight - 40;
      return el.scrollTop === before;
    });
    if (done) return rows;
  }
}

// The stack `npm start` runs (functions, page, local builder and runner) over
// this test run's emulators, and a Chromium to drive it.
export async function startStackWithBrowser(
  name: string,
): Promise<{ stack: Stack; browser: Browser; stop(): Promise<void> }> {
  const stack = await startStack({
    home: mkdtempSync(join(tmpdir(), `sigyl-${name}-`)),
    ports: 'free',
    projectId: `demo-${name}-${randomBytes(4).toString('hex')}`,
    emulators: inject('emulators'),
  });
  const browser = await launchChromium();
  return {
    stack,
    browser,
    async stop() {
      await browser.close();
      await stack.stop();
    },
  };
}
