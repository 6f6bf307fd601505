import type { Server } from 'node:http';
import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { COLLECTIONS, mergeLines, TOPICS, type LogLine } from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/stack/processes.ts';
import {
  seedBuildingDeployment,
  uniqueId,
  useTestProject,
} from '../../test/env.ts';
import { db } from '../firestore.ts';
import type { LogEntry } from '../logs/entries.ts';
import { MASK } from '../logs/mask.ts';
import { LogWriter, logWriter, setLogWriter } from '../logs/writer.ts';
import { pubsub } from '../pubsub.ts';
import { secretStore } from '../secrets.ts';
import { ingestLogs, type PubsubMessageData } from './index.ts';

const projectId = useTestProject('ingest');

// How often each message reached the function, to tell acked from retried.
const deliveries = new Map<string, number>();
const acked = new Set<string>();
let server: Server;

beforeAll(async () => {
  cloudEvent('ingestLogs', async (event: CloudEvent<PubsubMessageData>) => {
    const id = event.data?.message?.messageId ?? '';
    deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    await ingestLogs(event);
    acked.add(id);
  });
  const port = await freePort();
  server = getTestServer('ingestLogs');
  await new Promise<void>((resolve) =>
    server.listen(port, '127.0.0.1', resolve),
  );
  const [topic] = await pubsub().createTopic(TOPICS.deploymentLogs);
  await topic.createSubscription('ingest-logs-push', {
    pushConfig: {
      pushEndpoint: `http://127.0.0.1:${port}/projects/${projectId}/topics/${TOPICS.deploymentLogs}`,
    },
  });
});

afterAll(async () => {
  await logWriter().flushStats();
  await new Promise((resolve) => server.close(resolve));
});

describe('ingestLogs', () => {
  it('stores build lines with their step, in order, exactly once', async () => {
    const { deploymentId, buildId } = await createDeployment();
    const entries = [
      buildEntry(buildId, 'MAIN', 'starting build "x"', 1),
      buildEntry(buildId, 'Step #0 - "fetch-source"', 'Fetching', 2),
      buildEntry(buildId, 'Step #1 - "install"', 'added 12 packages', 3),
    ];
    for (const entry of entries) await publish(entry);

    const lines = await waitForLines(deploymentId, 3);
    expect(lines.map((l) => [l.text, l.step, l.source])).toEqual([
      ['starting build "x"', undefined, 'build'],
      ['Fetching', 'fetch-source', 'build'],
      ['added 12 packages', 'install', 'build'],
    ]);
    for (const line of lines) {
      expect(line.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    }
  });

  it('stores each line while the step is still printing', async () => {
    const { deploymentId, buildId } = await createDeployment();
    for (let i = 1; i <= 5; i++) {
      await publish(buildEntry(buildId, 'Step #2 - "build"', `tick ${i}`, i));
      // Each line is readable before the step prints its next one.
      const lines = await waitForLines(deploymentId, i);
      expect(lines.at(-1)?.text).toBe(`tick ${i}`);
      await sleep(1000);
    }
  });

  it('shows a redelivered entry once', async () => {
    const { deploymentId, buildId } = await createDeployment();
    const entry = buildEntry(buildId, 'Step #1 - "install"', 'once', 1);
    await publish(entry);
    await publish(entry);
    await publish({ entries: [entry, entry] });
    await publish(buildEntry(buildId, 'Step #1 - "install"', 'after', 2));

    await waitForLines(deploymentId, 2);
    await settle();
    const stored = (await chunkLines(deploymentId)).flat();
    expect(stored.map((l) => l.text).sort()).toEqual(['after', 'once']);
  });

  it('orders lines that arrive out of order by their time', async () => {
    const { deploymentId, buildId } = await createDeployment();
    const entries = Array.from({ length: 20 }, (_, i) =>
      buildEntry(buildId, 'Step #2 - "build"', `line ${i + 1}`, i + 1),
    );
    for (const entry of entries.reverse()) await publish(entry);

    const lines = await waitForLines(deploymentId, 20);
    expect(lines.map((l) => l.text)).toEqual(
      Array.from({ length: 20 }, (_, i) => `line ${i + 1}`),
    );
  });

  it('keeps entries that come before the build id is recorded', async () => {
    const { deploymentId } = await createDeployment({ buildId: null });
    const buildId = uniqueId('b');
    await publish(buildEntry(buildId, 'MAIN', 'early 1', 1));
    await publish({ entries: [buildEntry(buildId, 'MAIN', 'early 2', 2)] });
    await sleep(2500);
    expect(await readLines(deploymentId)).toEqual([]);

    await deploymentRef(deploymentId).update({ buildId });
    const lines = await waitForLines(deploymentId, 2);
    expect(lines.map((l) => l.text)).toEqual(['early 1', 'early 2']);
  });

  it('acknowledges messages that can never be stored and goes on', async () => {
    const { deploymentId, buildId, serviceName } = await createDeployment();
    const otherService = await createDeployment();
    const bad: (string | object)[] = [
      'not json at all',
      '[1, 2]',
      '{"entries": "many"}',
      { hello: 'world' },
      {
        ...buildEntry(buildId, 'MAIN', 'x', 1),
        resource: { type: 'gce_instance' },
      },
      {
        ...buildEntry(buildId, 'MAIN', 'audit', 1),
        logName: `projects/${projectId}/logs/cloudaudit.googleapis.com%2Factivity`,
      },
      { ...buildEntry(buildId, 'MAIN', '', 1), textPayload: undefined },
      runtimeEntry(serviceName, 'nosuchdeployment', 'stdout', 'ghost', 1),
      // A revision named like ours, of another package's service.
      runtimeEntry(serviceName, otherService.deploymentId, 'stdout', 'x', 1),
      runtimeEntry('mcp-not-ours', deploymentId, 'stdout', 'x', 1),
      // A build that is not ours, older than any build id could be late.
      buildEntry(uniqueId('b'), 'MAIN', 'stranger', -11 * 60 * 1000),
    ];
    const ids = [];
    for (const data of bad) ids.push(await publish(data));
    await publish(buildEntry(buildId, 'MAIN', 'still flowing', 2));

    const lines = await waitForLines(deploymentId, 1);
    expect(lines.map((l) => l.text)).toEqual(['still flowing']);
    await sleep(2500);
    for (const id of ids) expect(deliveries.get(id)).toBe(1);
    expect(await readLines(deploymentId)).toHaveLength(1);
    expect(await readLines(otherService.deploymentId)).toEqual([]);
  });

  it('cuts a very long line on a character boundary', async () => {
    const { deploymentId, buildId } = await createDeployment();
    const long = 'a' + '€😀'.repeat(10_000);
    await publish(buildEntry(buildId, 'Step #2 - "build"', long, 1));

    const [line] = await waitForLines(deploymentId, 1);
    const bytes = Buffer.byteLength(line!.text, 'utf8');
    expect(bytes).toBeLessThanOrEqual(16 * 1024);
    expect(bytes).toBeGreaterThan(16 * 1024 - 4);
    expect(long.startsWith(line!.text)).toBe(true);
    expect(line!.text).not.toContain('\uFFFD');
    expect(line!.fullLength).toBe(Buffer.byteLength(long, 'utf8'));
  });

  it('masks secret values, each line of a PEM too, before storing', async () => {
    const { deploymentId, serviceName } = await createDeployment();
    const pemBody = [
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
      'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
    ];
    const pem = `-----BEGIN PRIVATE KEY-----\n${pemBody.join('\n')}\n-----END PRIVATE KEY-----\n`;
    await secretStore().put(deploymentId, {
      API_KEY: 'sk-live-4f9a8b7c6d',
      TLS_KEY: pem,
    });
    const printed = [
      'API_KEY=sk-live-4f9a8b7c6d',
      `TLS_KEY=${pem.split('\n')[0]}`,
      ...pemBody,
      '-----END PRIVATE KEY-----',
      `{"env":{"TLS_KEY":${JSON.stringify(pem)}}}`,
      `curl -H "Authorization: Bearer sk-live-4f9a8b7c6d" and ${pem}`,
    ];
    await publish({
      entries: printed.map((text, i) =>
        runtimeEntry(serviceName, deploymentId, 'stdout', text, i + 1),
      ),
    });

    await waitForLines(deploymentId, printed.length);
    const stored = JSON.stringify(await chunkLines(deploymentId));
    expect(stored).not.toContain('sk-live-4f9a8b7c6d');
    for (const part of pemBody) expect(stored).not.toContain(part);
    const lines = await readLines(deploymentId);
    expect(lines[0]!.text).toBe(`API_KEY=${MASK}`);
    expect(lines.every((l) => l.source === 'runtime')).toBe(true);
    expect(lines.every((l) => l.stream === 'stdout')).toBe(true);
  });

  it('keeps each step in printed order when steps print at once', async () => {
    const { deploymentId, buildId } = await createDeployment();
    // Two steps printing 2,000 lines each in a tight loop: many lines share
    // a millisecond; the producer gives each its own nanosecond.
    const base = BigInt(Date.now()) * 1_000_000n;
    const entries: LogEntry[] = [];
    for (let i = 0; i < 2000; i++) {
      for (const step of ['install', 'build']) {
        const ts = base + BigInt(i * 2 + (step === 'build' ? 1 : 0));
        entries.push({
          ...buildEntry(buildId, `Step #1 - "${step}"`, `${step} ${i + 1}`, 0),
          timestamp: nanosToIso(ts),
        });
      }
    }
    for (let i = 0; i < entries.length; i += 250) {
      await publish({ entries: entries.slice(i, i + 250) });
    }

    const lines = await waitForLines(deploymentId, 4000);
    for (const step of ['install', 'build']) {
      expect(lines.filter((l) => l.step === step).map((l) => l.text)).toEqual(
        Array.from({ length: 2000 }, (_, i) => `${step} ${i + 1}`),
      );
    }
    const chunks = await chunkLines(deploymentId);
    expect(chunks.length).toBeLessThanOrEqual(16);
  });

  it('keeps two deployments of one package apart, after either ends', async () => {
    const first = await createDeployment();
    const second = await createDeployment({ packageId: first.packageId });
    for (let i = 1; i <= 30; i++) {
      await publish({
        entries: [
          buildEntry(first.buildId, 'Step #2 - "build"', `first ${i}`, i),
          buildEntry(second.buildId, 'Step #2 - "build"', `second ${i}`, i),
        ],
      });
      if (i === 15) {
        await deploymentRef(second.deploymentId).update({
          status: 'cancelled',
        });
      }
    }
    await publish(buildEntry(second.buildId, 'MAIN', 'late after end', 99));

    const firstLines = await waitForLines(first.deploymentId, 30);
    const secondLines = await waitForLines(second.deploymentId, 31);
    expect(firstLines.map((l) => l.text)).toEqual(
      Array.from({ length: 30 }, (_, i) => `first ${i + 1}`),
    );
    expect(secondLines.map((l) => l.text)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `second ${i + 1}`),
      'late after end',
    ]);
    await logWriter().flushStats();
    const a = (await deploymentRef(first.deploymentId).get()).data();
    const b = (await deploymentRef(second.deploymentId).get()).data();
    expect(a?.status).toBe('building');
    expect(b?.status).toBe('cancelled');
    expect(a?.logStats).toEqual({
      lines: 30,
      omitted: 0,
      bytes: firstLines.reduce((n, l) => n + l.text.length, 0),
    });
    expect(b?.lastLineAt).toBe(secondLines.at(-1)!.ts);
  });
});

describe('ingestLogs past the volume limit', () => {
  beforeAll(() =>
    setLogWriter(
      new LogWriter({ limits: { linesPerDeployment: 50, tailLines: 10 } }),
    ),
  );
  afterAll(() => setLogWriter(null));

  it('counts the lines it leaves out and keeps the newest', async () => {
    const { deploymentId, buildId } = await createDeployment();
    const texts = Array.from({ length: 199 }, (_, i) => `line ${i + 1}`);
    texts.push('Error: exit 1');
    // One message at a time, so that which lines come first is known.
    for (let i = 0; i < texts.length; i += 20) {
      const id = await publish({
        entries: texts
          .slice(i, i + 20)
          .map((text, j) => buildEntry(buildId, 'MAIN', text, i + j + 1)),
      });
      await waitFor(async () => acked.has(id), Boolean);
    }

    await waitFor(
      async () => (await readLines(deploymentId)).at(-1)?.text,
      (text) => text === 'Error: exit 1',
    );
    await settle();
    await logWriter().flushStats();
    const lines = await readLines(deploymentId);
    expect(lines.slice(0, 50).map((l) => l.text)).toEqual(texts.slice(0, 50));
    expect(lines[50]).toMatchObject({ source: 'system' });
    expect(lines[50]!.text).toContain('140 lines were left out');
    expect(lines.slice(51).map((l) => l.text)).toEqual(texts.slice(190));
    const deployment = (await deploymentRef(deploymentId).get()).data();
    expect(deployment?.logStats).toMatchObject({ lines: 60, omitted: 140 });
    expect(deployment?.status).toBe('building');
  });
});

// Helpers.

async function createDeployment(
  options: { buildId?: string | null; packageId?: string } = {},
) {
  const buildId =
    options.buildId === undefined ? uniqueId('b') : options.buildId;
  const packageId = options.packageId ?? uniqueId('p');
  const serviceName = `mcp-${packageId}-0a1b2c3d`;
  await db()
    .collection(COLLECTIONS.packages)
    .doc(packageId)
    .set({ ownerId: 'owner', serviceName }, { merge: true });
  const deploymentId = await seedBuildingDeployment({ packageId, buildId });
  return { deploymentId, buildId: buildId ?? '', packageId, serviceName };
}

function deploymentRef(id: string) {
  return db().collection(COLLECTIONS.deployments).doc(id);
}

let insertCounter = 0;

// `offsetMs` places the entry that far after a fixed start, so a test can
// state the order it printed lines in.
const start = Date.now();
function buildEntry(
  buildId: string,
  step: string,
  text: string,
  offsetMs: number,
): LogEntry {
  return {
    logName: `projects/${projectId}/logs/cloudbuild`,
    resource: { type: 'build', labels: { build_id: buildId } },
    labels: { build_step: step },
    textPayload: text,
    timestamp: new Date(start + offsetMs).toISOString(),
    insertId: `${++insertCounter}`.padStart(8, '0'),
    severity: 'INFO',
  };
}

function runtimeEntry(
  serviceName: string,
  deploymentId: string,
  stream: 'stdout' | 'stderr',
  text: string,
  offsetMs: number,
): LogEntry {
  return {
    logName: `projects/${projectId}/logs/run.googleapis.com%2F${stream}`,
    resource: {
      type: 'cloud_run_revision',
      labels: {
        service_name: serviceName,
        revision_name: `${serviceName}-${deploymentId}`,
      },
    },
    textPayload: `${text}\n`,
    timestamp: new Date(start + offsetMs).toISOString(),
    insertId: uniqueId(),
  };
}

function nanosToIso(nanos: bigint): string {
  const millis = Number(nanos / 1_000_000n);
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(millis).toISOString().slice(0, 19) + `.${fraction}Z`;
}

async function publish(data: string | object): Promise<string> {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return pubsub()
    .topic(TOPICS.deploymentLogs)
    .publishMessage({ data: Buffer.from(text) });
}

async function chunkLines(deploymentId: string): Promise<LogLine[][]> {
  const chunks = await deploymentRef(deploymentId)
    .collection(COLLECTIONS.logs)
    .get();
  return chunks.docs.map((doc) => doc.get('lines') as LogLine[]);
}

async function readLines(deploymentId: string): Promise<LogLine[]> {
  return mergeLines(await chunkLines(deploymentId));
}

async function waitForLines(deploymentId: string, count: number) {
  return waitFor(
    () => readLines(deploymentId),
    (lines) => lines.length >= count,
  );
}

async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    }
    await sleep(100);
  }
}

// Time for redeliveries and stragglers that should not change anything.
async function settle() {
  await sleep(1500);
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
