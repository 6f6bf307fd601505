// The page in Chromium on the local stack: click on Deploy to the package
// page rendered, a log line published on `deployment-logs` to the line in the
// DOM, and for a 200,000-line log the time until its newest lines show and
// the page's JS heap. Run alone with `npx tsx scripts/bench/web.ts`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getApps, initializeApp } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  newDeploymentDoc,
  newPackageDoc,
  type DeploymentStatus,
  type Source,
} from '@sigyl/types';
import { startStack, type Stack } from '../stack/start.ts';
import { percentile } from './stats.ts';

type Target = Pick<Stack, 'projectId' | 'urls'>;

const LOCAL_USER = { email: 'developer@sigyl.local', password: 'sigyl-local' };

export async function runWebBench(stack: Target): Promise<void> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.env.FIRESTORE_EMULATOR_HOST = new URL(stack.urls.firestore).host;
  const app =
    getApps().find((a) => a.name === `bench-${stack.projectId}`) ??
    initializeApp({ projectId: stack.projectId }, `bench-${stack.projectId}`);
  const db = getFirestore(app);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
    ],
  });
  try {
    const page = await signedIn(browser, stack);
    const uid = await localUid(stack);
    // SIGYL_WEB_BENCH=big measures only the 200,000-line log.
    if (process.env.SIGYL_WEB_BENCH !== 'big') {
      await clickToPage(page, stack);
      await lineToDom(page, stack, db, uid);
    }
    await page.context().close();
    await bigLog(browser, stack, db, uid);
  } finally {
    await browser.close();
  }
}

async function signedIn(browser: Browser, stack: Target): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${stack.urls.web}/deploy`);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('source-type').waitFor();
  return page;
}

async function localUid(stack: Target): Promise<string> {
  const response = await fetch(
    `${stack.urls.auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=bench`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...LOCAL_USER, returnSecureToken: true }),
    },
  );
  return ((await response.json()) as { localId: string }).localId;
}

// Wizard filled in, then the time from the click to the package page showing
// the package and the deployment's status. Each deployment is cancelled at
// once so that the builds do not compete with the measurement.
async function clickToPage(page: Page, stack: Target) {
  const times: number[] = [];
  const posts: number[] = [];
  for (let i = 0; i < 10; i++) {
    await page.goto(`${stack.urls.web}/deploy`);
    await page.getByTestId('source-type').selectOption('npm');
    await page.getByTestId('source-spec').fill('left-pad@1.3.0');
    await page.getByTestId('package-name').fill(`bench click ${i}`);
    const started = performance.now();
    await page.getByTestId('deploy-submit').click();
    await page.getByTestId('deployment-status').waitFor();
    await page.getByRole('heading', { name: `bench click ${i}` }).waitFor();
    times.push(performance.now() - started);
    posts.push(
      await page.evaluate(() => {
        const entries = performance.getEntriesByType('resource');
        const post = entries.filter((e) => e.name.endsWith('/deployments'));
        return post.at(-1)?.duration ?? NaN;
      }),
    );
    await page.getByTestId('deploy-cancel').click();
    await page
      .locator('[data-testid="deployment-status"][data-status="cancelled"]')
      .waitFor();
  }
  report('click to package page rendered', times, 'p50 < 1000 ms');
  report('  of which POST /deployments', posts, 'p50 < 150 ms');
}

async function seed(
  db: Firestore,
  uid: string,
  status: DeploymentStatus = 'building',
) {
  const packageId = `bench${randomBytes(5).toString('hex')}`;
  const deploymentId = `bench${randomBytes(5).toString('hex')}`;
  const buildId = `bench-${randomBytes(6).toString('hex')}`;
  const now = new Date().toISOString();
  const source: Source = { type: 'npm', spec: 'left-pad@1.3.0' };
  await db.doc(`packages/${packageId}`).set(
    newPackageDoc(
      {
        ownerId: uid,
        name: 'Bench',
        slug: packageId,
        source,
        serviceName: packageId,
        currentDeploymentId: deploymentId,
      },
      now,
    ),
  );
  await db
    .doc(`deployments/${deploymentId}`)
    .set(
      newDeploymentDoc(
        { packageId, ownerId: uid, source, status, buildId, steps: [] },
        now,
      ),
    );
  return { packageId, deploymentId, buildId };
}

// A Cloud Build LogEntry, as the local builder and the Logging sink publish:
// lines printed within one clock tick still get increasing timestamps.
function buildEntry(stack: Target, buildId: string, n: number, text: string) {
  const now = Date.now();
  const seconds = new Date(now - (now % 1000)).toISOString().slice(0, 19);
  const nanos = ((now % 1000) * 1_000_000 + (n % 1_000_000)).toString();
  return {
    logName: `projects/${stack.projectId}/logs/cloudbuild`,
    resource: { type: 'build', labels: { build_id: buildId } },
    labels: { build_step: 'Step #0 - "build"' },
    insertId: `${buildId}-${n}`,
    timestamp: `${seconds}.${nanos.padStart(9, '0')}Z`,
    textPayload: text,
  };
}

async function publish(stack: Target, data: unknown[]) {
  const response = await fetch(
    `${stack.urls.pubsub}/v1/projects/${stack.projectId}/topics/deployment-logs:publish`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: data.map((d) => ({
          data: Buffer.from(JSON.stringify(d)).toString('base64'),
        })),
      }),
    },
  );
  if (!response.ok) throw new Error(`publish: ${await response.text()}`);
}

// Lines published one by one on deployment-logs, through the ingest function
// and Firestore, to their row in the page's DOM.
async function lineToDom(
  page: Page,
  stack: Target,
  db: Firestore,
  uid: string,
) {
  const { packageId, buildId } = await seed(db, uid);
  await page.goto(`${stack.urls.web}/mcp/${packageId}`);
  await page.getByTestId('log-viewer').waitFor();
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    (window as unknown as { seen: typeof seen }).seen = seen;
    new MutationObserver(() => {
      document.querySelectorAll('[data-testid="log-line"]').forEach((row) => {
        const match = /bench line (\d+)/.exec(row.textContent ?? '');
        if (match && !(match[1]! in seen)) seen[match[1]!] = Date.now();
      });
    }).observe(document.body, { childList: true, subtree: true });
  });

  const sentAt: number[] = [];
  for (let i = 0; i < 40; i++) {
    sentAt.push(Date.now());
    await publish(stack, [buildEntry(stack, buildId, i, `bench line ${i}`)]);
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.waitForFunction(
    () =>
      Object.keys((window as unknown as { seen: object }).seen).length >= 40,
    null,
    { timeout: 60_000 },
  );
  const seen = await page.evaluate(
    () => (window as unknown as { seen: Record<string, number> }).seen,
  );
  const times = sentAt.map((at, i) => seen[String(i)]! - at);
  report('line published to line in the DOM', times, 'p50 < 500 ms');
}

// 200,000 lines of `seq` through the real ingest path, then a fresh page:
// time to the newest line and the JS heap once it shows.
async function bigLog(
  browser: Browser,
  stack: Target,
  db: Firestore,
  uid: string,
) {
  const { packageId, deploymentId, buildId } = await seed(db, uid);
  const total = 200_000;
  const perMessage = 1000;
  for (let from = 1; from <= total; from += perMessage * 10) {
    const messages = [];
    for (
      let m = from;
      m < from + perMessage * 10 && m <= total;
      m += perMessage
    ) {
      const entries = [];
      for (let n = m; n < m + perMessage && n <= total; n++) {
        entries.push(buildEntry(stack, buildId, n, String(n)));
      }
      messages.push({ entries });
    }
    await publish(stack, messages);
  }
  const started = Date.now();
  for (;;) {
    const stats = (await db.doc(`deployments/${deploymentId}`).get()).get(
      'logStats',
    ) as { lines: number };
    if (stats.lines >= total) break;
    if (Date.now() - started > 300_000) {
      throw new Error(`only ${stats.lines} of ${total} lines were stored`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await db.doc(`deployments/${deploymentId}`).update({ status: 'live' });

  const page = await signedIn(browser, stack);
  const context = page.context();
  const newestShown = async () => {
    const opened = performance.now();
    await page.goto(`${stack.urls.web}/mcp/${packageId}`);
    await page.getByRole('heading', { name: 'Bench' }).waitFor();
    const heading = performance.now() - opened;
    await page
      .locator('[data-testid="log-line"] .line-text', { hasText: /^200000$/ })
      .waitFor({ timeout: 60_000 });
    return { heading, newest: performance.now() - opened };
  };
  const first = await newestShown();
  const again = await newestShown();
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  console.log(
    `200,000-line log: newest lines shown ${first.newest.toFixed(0)} ms after ` +
      `navigation, ${again.newest.toFixed(0)} ms on a second visit ` +
      `(package shown at ${first.heading.toFixed(0)} / ` +
      `${again.heading.toFixed(0)} ms; target < 1500 ms); ` +
      `JS heap ${(heap.usedSize / 2 ** 20).toFixed(0)} MB (target < 250 MB)`,
  );
  await context.close();
}

function report(what: string, times: number[], target: string) {
  console.log(
    `${what} (${times.length} samples): p50 ${percentile(times, 50).toFixed(0)} ms, ` +
      `p90 ${percentile(times, 90).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms ` +
      `(target ${target})`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const home = mkdtempSync(join(tmpdir(), 'sigyl-bench-web-'));
  const stack = await startStack({ home, ports: 'free' });
  try {
    await runWebBench(stack);
  } finally {
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
