import { FieldValue } from 'firebase-admin/firestore';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLine,
  collectRows,
  seedDeployment,
  signedInPage,
  startHarness,
  writeChunk,
  type Harness,
} from './harness.ts';

// Cases 1, 2, 5 to 8 and 10 of the log-viewer cases: the lines are written
// to Firestore the way the ingest function writes them, and a real Chromium
// shows them.

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

// Waits for what a user would see; a bound, not a timing target.
const poll = <T>(read: () => Promise<T> | T, timeout = 10_000) =>
  expect.poll(read, { timeout });

const numbered = (n: number) => `line ${String(n).padStart(4, '0')}`;

// Writes a numbered line every `intervalMs`, one chunk per line, like a step
// that prints slowly.
function printEvery(
  deploymentId: string,
  from: number,
  to: number,
  intervalMs: number,
): Promise<void> {
  return (async () => {
    for (let n = from; n <= to; n++) {
      const started = Date.now();
      await writeChunk(harness, deploymentId, [buildLine(n, numbered(n))]);
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
}

async function openPackage(page: Page, packageId: string) {
  await page.goto(`${harness.webUrl}/mcp/${packageId}`);
  await page.getByTestId('log-viewer').waitFor();
}

function lastRow(page: Page) {
  return page.getByTestId('log-line').last();
}

describe('log viewer', () => {
  it('case 1: shows the lines so far at once, then the rest live', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    // 30 s of a step that prints every 200 ms, already stored.
    for (let n = 1; n <= 150; n++) {
      await writeChunk(harness, deploymentId, [buildLine(n, numbered(n))]);
    }

    await openPackage(page, packageId);
    await poll(() => lastRow(page).getAttribute('data-line')).toBe('150');
    expect(await lastRow(page).textContent()).toContain(numbered(150));
    // Nothing older to load: lines 1 to 150 are all here.
    expect(await page.getByText('Load older lines').count()).toBe(0);

    await printEvery(deploymentId, 151, 175, 200);
    await poll(() => lastRow(page).textContent()).toContain(numbered(175));

    const rows = await collectRows(page);
    expect([...rows.keys()]).toEqual(
      Array.from({ length: 175 }, (_, i) => i + 1),
    );
    for (const [n, text] of rows) expect(text).toBe(numbered(n));
    await page.context().close();
  }, 120_000);

  it('case 2: after 15 s offline every line shows exactly once, no reload', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    await writeChunk(harness, deploymentId, [buildLine(1, numbered(1))]);
    await openPackage(page, packageId);
    await poll(() => lastRow(page).textContent()).toContain(numbered(1));
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });

    const printing = printEvery(deploymentId, 2, 120, 200);
    await page.waitForTimeout(3000);
    await page.context().setOffline(true);
    await poll(() =>
      page.locator('.connection').getAttribute('data-connection'),
    ).not.toBe('live');
    await page.waitForTimeout(15_000);
    await page.context().setOffline(false);
    await printing;

    await poll(() => lastRow(page).textContent(), 30_000).toContain(
      numbered(120),
    );
    expect(
      await page.locator('.connection').getAttribute('data-connection'),
    ).toBe('live');
    // The same document: the page never reloaded.
    expect(
      await page.evaluate(
        () => (window as unknown as { marker?: number }).marker,
      ),
    ).toBe(42);
    const rows = await collectRows(page);
    const texts = [...rows.values()];
    expect(texts).toEqual(
      Array.from({ length: 120 }, (_, i) => numbered(i + 1)),
    );
    await page.context().close();
  }, 120_000);

  it('shows lines added to a chunk it holds, up to the last before the next chunk', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    const chunks = harness.db.collection(`deployments/${deploymentId}/logs`);
    // What ingestLogs does with small writes: the newest chunk takes their
    // lines until it is full, and its writtenAt moves on with each.
    const open = chunks.doc();
    const grow = (n: number) => ({
      lines: FieldValue.arrayUnion(buildLine(n, numbered(n))),
      writtenAt: FieldValue.serverTimestamp(),
    });
    await open.set(grow(1), { merge: true });
    await openPackage(page, packageId);
    await poll(() => lastRow(page).textContent()).toContain(numbered(1));

    await open.set(grow(2), { merge: true });
    await poll(() => lastRow(page).textContent()).toContain(numbered(2));

    // The chunk's last line and the next chunk's first in one commit.
    const batch = harness.db.batch();
    batch.set(open, grow(3), { merge: true });
    batch.set(chunks.doc(), grow(4));
    await batch.commit();

    await poll(() => page.getByTestId('log-line').count()).toBe(4);
    const rows = await collectRows(page);
    expect([...rows.values()]).toEqual([1, 2, 3, 4].map(numbered));
    await page.context().close();
  });

  it('shows every line when more chunks than the live window come at once', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    await writeChunk(harness, deploymentId, [buildLine(1, numbered(1))]);
    await openPackage(page, packageId);
    await poll(() => lastRow(page).textContent()).toContain(numbered(1));

    // 40 one-line chunks in one commit: they share a write time, and the
    // listener's next snapshot holds only the newest two of them.
    const batch = harness.db.batch();
    const chunks = harness.db.collection(`deployments/${deploymentId}/logs`);
    for (let n = 2; n <= 41; n++) {
      batch.set(chunks.doc(), {
        lines: [buildLine(n, numbered(n))],
        writtenAt: FieldValue.serverTimestamp(),
      });
    }
    await batch.commit();

    await poll(() => page.getByTestId('log-line').count()).toBe(41);
    const rows = await collectRows(page);
    expect([...rows.values()]).toEqual(
      Array.from({ length: 41 }, (_, i) => numbered(i + 1)),
    );
    await page.context().close();
  });
});

describe('log rendering', () => {
  it('case 5: one final line per progress bar or spinner', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    let bar = '';
    for (let p = 0; p <= 100; p += 2) {
      bar += `\rDownloading [${'#'.repeat(p / 5).padEnd(20)}] ${p}%`;
    }
    let spinner = '';
    for (let i = 0; i < 2000; i++) {
      spinner += `\x1b[1G\x1b[0K${'|/-\\'[i % 4]} resolving packages`;
    }
    spinner += '\x1b[1G\x1b[0Kresolved 120 packages';
    await writeChunk(harness, deploymentId, [
      buildLine(1, 'npm install'),
      buildLine(2, bar),
      buildLine(3, spinner),
      buildLine(4, 'added 120 packages in 3s'),
    ]);

    await openPackage(page, packageId);
    await poll(() => page.getByTestId('log-line').count()).toBe(4);
    const texts = await page
      .getByTestId('log-line')
      .locator('.line-text')
      .allTextContents();
    expect(texts).toEqual([
      'npm install',
      `Downloading [${'#'.repeat(20)}] 100%`,
      'resolved 120 packages',
      'added 120 packages in 3s',
    ]);
    await page.context().close();
  });

  it('case 6: colours and links rendered, other sequences removed', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    const E = '\x1b';
    await writeChunk(harness, deploymentId, [
      buildLine(
        1,
        `${E}[31mfailed${E}[0m ${E}[32mpassed${E}[0m ${E}[1mbold${E}[22m`,
      ),
      buildLine(
        2,
        `${E}[38;5;208morange${E}[0m ${E}[38;2;10;200;30mtrue${E}[0m`,
      ),
      buildLine(
        3,
        `docs: ${E}]8;;https://modelcontextprotocol.io/${E}\\the spec${E}]8;;${E}\\`,
      ),
      buildLine(4, `${E}[2A${E}[?25l${E}[Ksaved${E}[1B${E}(B${E}[?25h`),
    ]);

    await openPackage(page, packageId);
    await poll(() => page.getByTestId('log-line').count()).toBe(4);
    const viewer = page.getByTestId('log-viewer');
    const colourOf = (text: string) =>
      viewer
        .getByText(text, { exact: true })
        .evaluate((el) => getComputedStyle(el).color);
    expect(await colourOf('failed')).toBe('rgb(255, 107, 107)');
    expect(await colourOf('passed')).toBe('rgb(74, 222, 128)');
    expect(await colourOf('orange')).toBe('rgb(255, 135, 0)');
    expect(await colourOf('true')).toBe('rgb(10, 200, 30)');
    expect(
      await viewer
        .getByText('bold', { exact: true })
        .evaluate((el) => getComputedStyle(el).fontWeight),
    ).toBe('700');
    const link = viewer.getByRole('link', { name: 'the spec' });
    expect(await link.getAttribute('href')).toBe(
      'https://modelcontextprotocol.io/',
    );
    const all = await viewer.locator('.line-text').allTextContents();
    expect(all[3]).toBe('saved');
    for (const text of all) {
      expect(text).not.toContain(E);
      expect(text).not.toMatch(/\[\d+m|\]8;;/);
    }
    await page.context().close();
  });

  it('case 8: a 70 KB line is cut, can be seen whole, page stays usable', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    // The ingest function keeps the first 16 KiB and the whole length.
    const stored = 'a'.repeat(16 * 1024);
    await writeChunk(harness, deploymentId, [
      buildLine(1, 'before'),
      buildLine(2, stored, undefined, { fullLength: 70_000 }),
      buildLine(3, 'after'),
    ]);

    await openPackage(page, packageId);
    const long = page.locator('[data-testid="log-line"][data-line="2"]');
    await long.waitFor();
    const shown = await long.locator('.line-text').textContent();
    expect(shown!.length).toBeLessThan(stored.length);
    await long.getByRole('button', { name: /show whole line/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.locator('pre').textContent()).toBe(stored);
    expect(await dialog.textContent()).toContain('70,000 bytes');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('searchbox', { name: 'Search log' }).fill('after');
    await poll(() => page.locator('.match-count').textContent()).toBe('1 of 1');
    await page.context().close();
  });
});

describe('scrolling', () => {
  it('case 10: the view stays where the reader put it, with jump to latest', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid);
    const history = Array.from({ length: 400 }, (_, i) =>
      buildLine(i + 1, numbered(i + 1)),
    );
    await writeChunk(harness, deploymentId, history);
    await openPackage(page, packageId);
    await poll(() => lastRow(page).textContent()).toContain(numbered(400));

    const printing = printEvery(deploymentId, 401, 700, 50);
    await page.waitForTimeout(2000);
    await page.getByTestId('log-viewer').hover();
    await page.mouse.wheel(0, -3000);
    await page.getByTestId('jump-to-latest').waitFor();
    const topRow = () =>
      page.getByTestId('log-viewer').evaluate((el) => {
        const rows = [...el.querySelectorAll('[data-testid="log-line"]')];
        const top = el.getBoundingClientRect().top;
        const first = rows.find(
          (r) => r.getBoundingClientRect().bottom > top + 1,
        );
        return first?.getAttribute('data-line');
      });
    const before = await topRow();
    await page.waitForTimeout(3000);
    expect(await topRow()).toBe(before);
    const jump = page.getByTestId('jump-to-latest');
    await poll(async () =>
      Number(/\((\d+) new\)/.exec((await jump.textContent()) ?? '')?.[1] ?? 0),
    ).toBeGreaterThan(20);

    await jump.click();
    await printing;
    await poll(() => lastRow(page).textContent()).toContain(numbered(700));
    expect(await jump.count()).toBe(0);
    await page.context().close();
  }, 120_000);

  it('case 7: seq 1 200000 shows its end at once, older on demand, downloads whole', async () => {
    const { page, uid } = await signedInPage(harness);
    const { packageId, deploymentId } = await seedDeployment(harness, uid, {
      status: 'live',
    });
    // As the log writer stores a burst: chunks of up to 800 KB by its
    // estimate of 160 bytes per line besides the text.
    const perChunk = Math.floor((800 * 1024) / 166);
    for (let from = 1; from <= 200_000; from += perChunk) {
      const lines = [];
      for (let n = from; n < from + perChunk && n <= 200_000; n++) {
        lines.push(buildLine(n, String(n)));
      }
      await writeChunk(harness, deploymentId, lines);
    }

    await openPackage(page, packageId);
    await poll(() => lastRow(page).getAttribute('data-line'), 30_000).toBe(
      '200000',
    );
    expect(await lastRow(page).locator('.line-text').textContent()).toBe(
      '200000',
    );
    const older = page.getByRole('button', { name: 'Load older lines' });
    expect(await older.count()).toBe(1);

    const firstShown = () =>
      page.getByTestId('log-line').first().getAttribute('data-line');
    await page.getByTestId('log-viewer').evaluate((el) => {
      el.scrollTop = 0;
    });
    const top = Number(await firstShown());
    await poll(async () => Number(await firstShown()) < top).toBe(true);

    const downloading = page.waitForEvent('download', { timeout: 60_000 });
    await page.getByRole('button', { name: 'Download' }).click();
    const file = await (await downloading).path();
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(200_000);
    expect(lines[0]).toMatch(/ 1$/);
    expect(lines[199_999]).toMatch(/ 200000$/);
    await page.context().close();
  }, 180_000);
});
