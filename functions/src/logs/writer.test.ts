import { COLLECTIONS, type LogLine } from '@sigyl/types';
import { describe, expect, it } from 'vitest';
import { seedBuildingDeployment, useTestProject } from '../../test/env.ts';
import { db } from '../firestore.ts';
import { tsFromNanos } from './timestamps.ts';
import { LogWriter } from './writer.ts';

// A sink's pushes carry one entry each, and the Pub/Sub emulator has two of
// them in flight, each held until its line is committed. Their lines must
// share writes; written one by one, each push waits for the other's write.

useTestProject('writer');

describe('LogWriter', () => {
  it('writes lines that come together in one write', async () => {
    const deploymentId = await seedBuildingDeployment();
    // Both first read the deployment and its secrets, which can finish
    // apart by more than the default linger on a busy machine.
    const writer = new LogWriter({ lingerMs: 200 });
    await Promise.all([
      writer.append(deploymentId, [line('a', 1)]),
      writer.append(deploymentId, [line('b', 2)]),
    ]);
    expect(await chunkTexts(deploymentId)).toEqual([['a', 'b']]);
    expect(writer.writes.chunks).toBe(1);
  });

  it('pairs a line that waited for a write with the next one', async () => {
    const deploymentId = await seedBuildingDeployment();
    const writer = new LogWriter({ lingerMs: 20 });
    await writer.append(deploymentId, [line('before', 6000)]);
    // A large write, so that the second line surely comes while it is
    // in flight; its sender answers and sends again when it commits.
    const big = Array.from({ length: 3000 }, (_, i) =>
      line(`${'x'.repeat(1000)} ${i}`, i),
    );
    const first = writer.append(deploymentId, big);
    await sleep(30);
    const second = writer.append(deploymentId, [line('second', 5000)]);
    await first;
    const third = writer.append(deploymentId, [line('third', 5001)]);
    await Promise.all([second, third]);

    const chunks = await chunkTexts(deploymentId);
    expect(chunks.at(-1)).toEqual(['second', 'third']);
    expect(chunks.flat()).toHaveLength(3003);
  });

  it('adds the lines of small writes to the newest chunk until it is full', async () => {
    const deploymentId = await seedBuildingDeployment();
    const writer = new LogWriter({ lingerMs: 0 });
    for (let n = 1; n <= 40; n++) {
      await writer.append(deploymentId, [line(`line ${n}`, n)]);
    }
    const chunks = await chunkTexts(deploymentId);
    expect(chunks.map((texts) => texts.length)).toEqual([32, 8]);
    expect(chunks.flat()).toEqual(
      Array.from({ length: 40 }, (_, i) => `line ${i + 1}`),
    );
  });

  it('starts a new chunk for a write too large to add', async () => {
    const deploymentId = await seedBuildingDeployment();
    const writer = new LogWriter({ lingerMs: 0 });
    await writer.append(deploymentId, [line('small', 1)]);
    const many = Array.from({ length: 50 }, (_, i) => line(`many ${i}`, i + 2));
    await writer.append(deploymentId, many);
    await writer.append(deploymentId, [line('after', 100)]);
    const chunks = await chunkTexts(deploymentId);
    // 50 lines are more than a chunk takes in small writes, so the one
    // after them starts another.
    expect(chunks.map((texts) => texts.length)).toEqual([1, 50, 1]);
  });

  it('keeps the lines past the volume limit when the rest join the newest chunk', async () => {
    const deploymentId = await seedBuildingDeployment();
    const writer = new LogWriter({
      lingerMs: 0,
      limits: { linesPerDeployment: 3 },
    });
    await writer.append(deploymentId, [line('one', 1)]);
    await writer.append(deploymentId, [line('two', 2)]);
    // One more line fits under the limit; the other two go to the tail.
    await writer.append(deploymentId, [
      line('three', 3),
      line('four', 4),
      line('five', 5),
    ]);
    const texts = (await chunkTexts(deploymentId)).flat();
    expect(texts.filter((text) => !text.startsWith('This log passed'))).toEqual(
      ['one', 'two', 'three', 'four', 'five'],
    );
  });

  it('does not wait for company that stopped coming', async () => {
    const deploymentId = await seedBuildingDeployment();
    const writer = new LogWriter({ lingerMs: 1000 });
    // The first lone line lingers in vain; the next lone ones go at once.
    await writer.append(deploymentId, [line('one', 1)]);
    const started = performance.now();
    for (let n = 2; n <= 5; n++) {
      await writer.append(deploymentId, [line(`line ${n}`, n)]);
    }
    // Four lone writes, each well under the 1 s linger it skipped.
    expect(performance.now() - started).toBeLessThan(4 * 1000);
    expect((await chunkTexts(deploymentId)).flat()).toEqual([
      'one',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
    ]);
  });
});

// Line n is printed n ms after a fixed start, with the stored ts format.
const START_NANOS = BigInt(Date.UTC(2026, 11, 3, 10)) * 1_000_000n;

function line(text: string, n: number): LogLine {
  return {
    id: `line-${n}`,
    ts: tsFromNanos(START_NANOS + BigInt(n) * 1_000_000n),
    text,
    source: 'build',
  };
}

// Each chunk's texts, chunks in the order they were written.
async function chunkTexts(deploymentId: string): Promise<string[][]> {
  const chunks = await db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .orderBy('writtenAt')
    .get();
  return chunks.docs.map((doc) =>
    (doc.get('lines') as LogLine[]).map((l) => l.text),
  );
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
