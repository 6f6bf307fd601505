// Measures the log path on the local stack: Pub/Sub push -> ingestLogs ->
// Firestore -> a web-SDK listener in Node, each figure beside its anchor
// from the same run. Run with `npx tsx scripts/bench/logs.ts`.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  cloudEvent,
  http,
  type CloudEvent,
} from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { COLLECTIONS, TOPICS, type LogLine } from '@sigyl/types';
import { deleteApp, initializeApp } from 'firebase/app';
import {
  collection,
  connectFirestoreEmulator,
  getFirestore,
  onSnapshot,
  terminate,
  type Firestore as WebFirestore,
} from 'firebase/firestore';
import { FieldValue } from 'firebase-admin/firestore';
import { handleGetLogs } from '../../functions/src/api/logs.ts';
import { resetConfig } from '../../functions/src/config.ts';
import { db } from '../../functions/src/firestore.ts';
import {
  ingestLogs,
  type PubsubMessageData,
} from '../../functions/src/ingestLogs/index.ts';
import type { LogEntry } from '../../functions/src/logs/entries.ts';
import { logWriter } from '../../functions/src/logs/writer.ts';
import { pubsub } from '../../functions/src/pubsub.ts';
import { startEmulators } from '../stack/emulators.ts';
import { freePort } from '../stack/processes.ts';

const PROJECT_ID = 'demo-sigyl-logbench';
const OWNER = 'bench-owner';
const SUSTAIN_SECONDS = 30;

// How long each push took in ingestLogs, for the figures' context.
const handlerMs: number[] = [];

type Stack = {
  web: WebFirestore;
  api: string;
  stop(): Promise<void>;
};

export type LogBenchFigures = Record<string, number | boolean>;

export async function runLogBench(): Promise<LogBenchFigures> {
  const stack = await startStack();
  const figures: LogBenchFigures = {};
  const say = (text: string) => console.log(text);
  try {
    say('log bench: Pub/Sub push -> ingestLogs -> Firestore -> listener');
    await sleep(200);
    handlerFigure();

    const floor = await measureFloor(stack);
    Object.assign(figures, {
      floorP50Ms: floor.p50,
      floorP99Ms: floor.p99,
      chunkWriteP50Ms: floor.writeP50,
    });
    say(
      `floor: one write -> web listener p50 ${ms(floor.p50)}, ` +
        `p99 ${ms(floor.p99)} (n=${floor.n}); one chunk write commits in ` +
        `${ms(floor.writeP50)} p50`,
    );

    const batched = await measureBatched(stack);
    const batchedTarget = 2 * floor.p50 + 50;
    const speedup = batched.poll.p50 / batched.listener.p50;
    Object.assign(figures, {
      batchedP50Ms: batched.listener.p50,
      batchedP99Ms: batched.listener.p99,
      batchedLost: batched.listener.lost,
      pollingP50Ms: batched.poll.p50,
      pollingP99Ms: batched.poll.p99,
      pollingLost: batched.poll.lost,
      batchedOk:
        batched.listener.p50 <= batchedTarget &&
        batched.listener.p99 < 1000 &&
        speedup >= 4 &&
        batched.listener.lost === 0,
    });
    say(
      `batched, 200 lines/s for ${SUSTAIN_SECONDS} s in messages of 10: ` +
        `publish -> listener p50 ${ms(batched.listener.p50)}, p99 ` +
        `${ms(batched.listener.p99)}, lost ${batched.listener.lost} of ` +
        `${batched.sent} (target p50 <= 2 x floor + 50 = ` +
        `${ms(batchedTarget)}, p99 < 1 s)`,
    );
    say(`  ingestLogs per push in that phase: ${handlerFigure()}`);
    say(
      `polling reader, GET /logs?after= every 2 s on the same lines: p50 ` +
        `${ms(batched.poll.p50)}, p99 ${ms(batched.poll.p99)}, lost ` +
        `${batched.poll.lost}; the listener is ${speedup.toFixed(1)} x ` +
        `faster at p50 (target >= 4 x)`,
    );

    if (process.env.DIAG) return figures;
    const ceiling = 2 * (1000 / floor.writeP50);
    const capacity = await measureSinkCapacity(stack);
    let sustained = await measureSinkSustained(stack, capacity * 0.9);
    if (!sustained.holds) {
      sustained = await measureSinkSustained(stack, capacity * 0.7);
    }
    const share = sustained.holds ? sustained.rate / ceiling : 0;
    Object.assign(figures, {
      sinkCapacityPerS: capacity,
      sinkSustainedPerS: sustained.holds ? sustained.rate : 0,
      sinkCeilingPerS: ceiling,
      sinkSustainedLost: sustained.lost,
      sinkSustainedOk: share >= 0.7 && sustained.lost === 0,
    });
    say(
      `sink-shaped (one entry a message): drained ${capacity.toFixed(0)} ` +
        `lines/s when flooded; held ${sustained.rate.toFixed(0)} lines/s ` +
        `for ${SUSTAIN_SECONDS} s: ${sustained.holds ? 'yes' : 'no'} ` +
        `(backlog ${sustained.backlogStart} -> ${sustained.backlogEnd} ` +
        `lines, lost ${sustained.lost}); ceiling ${ceiling.toFixed(0)} ` +
        `lines/s (2 pushes in flight x 1 line per ${ms(floor.writeP50)} ` +
        `write): ${(share * 100).toFixed(0)} % (target >= 70 %)`,
    );

    const steady = await measureSinkLatency(stack, 100, 20);
    Object.assign(figures, {
      sink100P50Ms: steady.p50,
      sink100P99Ms: steady.p99,
      sink100Lost: steady.lost,
      sink100Ok: steady.p99 < 1000 && steady.lost === 0,
    });
    say(
      `sink-shaped at 100 lines/s for 20 s: publish -> listener p50 ` +
        `${ms(steady.p50)}, p99 ${ms(steady.p99)}, lost ${steady.lost} ` +
        `(target p99 < 1 s)`,
    );

    const burst = await measureBurst(stack, 50_000, 500);
    Object.assign(figures, {
      burstSeconds: burst.seconds,
      burstLost: burst.lost,
      burstWritesPer1000: burst.writesPer1000,
      burstOk:
        burst.seconds <= 30 && burst.lost === 0 && burst.writesPer1000 <= 20,
    });
    say(
      `burst of 50,000 lines in messages of 500: all visible after ` +
        `${burst.seconds.toFixed(1)} s (target <= 30 s), lost ${burst.lost}, ` +
        `${burst.writesPer1000.toFixed(1)} Firestore writes per 1,000 lines ` +
        `(${burst.chunkWrites} chunks + ${burst.statsWrites} counter ` +
        `updates; target <= 20)`,
    );
    return figures;
  } finally {
    await stack.stop();
  }
}

// The stack: emulators on free ports, ingestLogs behind a push
// subscription, the logs endpoint, and a web-SDK client signed in as the
// owner of every deployment the bench makes.
async function startStack(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'sigyl-logbench-'));
  const emulators = await startEmulators({
    projectId: PROJECT_ID,
    firestorePort: await freePort(),
    pubsubPort: await freePort(),
    authPort: await freePort(),
    configDir: dir,
  });
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = emulators.authHost;
  process.env.SIGYL_PROJECT_ID = PROJECT_ID;
  process.env.SIGYL_MODE = 'local';
  process.env.SIGYL_HOME = dir;
  resetConfig();

  cloudEvent('ingestLogs', async (event: CloudEvent<PubsubMessageData>) => {
    const started = performance.now();
    await ingestLogs(event);
    handlerMs.push(performance.now() - started);
  });
  http('logsApi', async (req, res) => {
    const id = /^\/deployments\/([a-z0-9]+)\/logs$/.exec(req.path)?.[1];
    if (id) await handleGetLogs(req, res, id);
    else res.status(404).end();
  });
  const servers: Server[] = [];
  const listen = async (name: string) => {
    const port = await freePort();
    const server = getTestServer(name);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    servers.push(server);
    return port;
  };
  const ingestPort = await listen('ingestLogs');
  const apiPort = await listen('logsApi');

  const [topic] = await pubsub().createTopic(TOPICS.deploymentLogs);
  await topic.createSubscription('ingest-logs', {
    pushConfig: {
      pushEndpoint: `http://127.0.0.1:${ingestPort}/projects/${PROJECT_ID}/topics/${TOPICS.deploymentLogs}`,
    },
  });

  const app = initializeApp({ projectId: PROJECT_ID }, 'log-bench');
  const web = getFirestore(app);
  const [host, port] = emulators.firestoreHost.split(':');
  connectFirestoreEmulator(web, host!, Number(port), {
    mockUserToken: { sub: OWNER, user_id: OWNER },
  });

  return {
    web,
    api: `http://127.0.0.1:${apiPort}`,
    async stop() {
      await logWriter().flushStats();
      await terminate(web);
      await deleteApp(app);
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
      await pubsub().close();
      await emulators.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let deploymentCount = 0;

async function createDeployment(): Promise<{ id: string; buildId: string }> {
  deploymentCount += 1;
  const id = `bench${deploymentCount}${Date.now().toString(36)}`;
  const buildId = `build-${id}`;
  await db()
    .collection(COLLECTIONS.deployments)
    .doc(id)
    .set({
      packageId: 'bench',
      ownerId: OWNER,
      status: 'building',
      buildId,
      logStats: { lines: 0, omitted: 0, bytes: 0 },
      lastLineAt: null,
    });
  return { id, buildId };
}

// Follows a deployment's chunks as the page does and notes when each
// numbered line ("<label> <n>") is first seen.
function watchLines(web: WebFirestore, deploymentId: string) {
  const seenAt = new Map<number, number>();
  let stop = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    stop = onSnapshot(
      collection(web, COLLECTIONS.deployments, deploymentId, COLLECTIONS.logs),
      (snapshot) => {
        const now = performance.now();
        for (const change of snapshot.docChanges()) {
          for (const line of (change.doc.get('lines') as LogLine[]) ?? []) {
            const n = Number(line.text.slice(line.text.lastIndexOf(' ') + 1));
            if (!seenAt.has(n)) seenAt.set(n, now);
          }
        }
        resolve();
      },
      reject,
    );
  });
  return { seenAt, ready, stop: () => stop() };
}

async function measureFloor(stack: Stack) {
  const { id } = await createDeployment();
  const watcher = watchLines(stack.web, id);
  await watcher.ready;
  const chunks = db()
    .collection(COLLECTIONS.deployments)
    .doc(id)
    .collection(COLLECTIONS.logs);
  const started = new Map<number, number>();
  const writes: number[] = [];
  const n = 100;
  for (let i = 1; i <= n; i++) {
    started.set(i, performance.now());
    await chunks.add({
      lines: [
        {
          id: `f${i}`,
          ts: new Date().toISOString(),
          text: `floor ${i}`,
          source: 'system',
        },
      ],
      writtenAt: FieldValue.serverTimestamp(),
    });
    writes.push(performance.now() - started.get(i)!);
    await sleep(30);
  }
  await waitUntil(() => watcher.seenAt.size >= n, 10_000);
  watcher.stop();
  const latency = latencies(started, watcher.seenAt);
  return {
    n,
    p50: percentile(latency.values, 50),
    p99: percentile(latency.values, 99),
    writeP50: percentile(writes, 50),
  };
}

// A producer that batches: 10 lines every 50 ms, as the local builder does.
async function measureBatched(stack: Stack) {
  const { id, buildId } = await createDeployment();
  const watcher = watchLines(stack.web, id);
  await watcher.ready;
  const polled = pollLines(stack.api, id);
  const topic = pubsub().topic(TOPICS.deploymentLogs, {
    batching: { maxMessages: 1 },
  });

  const published = new Map<number, number>();
  const perMessage = 10;
  const messages = (200 / perMessage) * SUSTAIN_SECONDS;
  const start = performance.now();
  let seq = 0;
  const sends: Promise<string>[] = [];
  for (let m = 0; m < messages; m++) {
    await sleepUntil(start + m * 50);
    const entries: LogEntry[] = [];
    for (let i = 0; i < perMessage; i++) {
      seq += 1;
      entries.push(buildEntry(buildId, `batched ${seq}`, seq));
    }
    const now = performance.now();
    for (let i = seq - perMessage + 1; i <= seq; i++) published.set(i, now);
    sends.push(topic.publishMessage({ data: json({ entries }) }));
  }
  await Promise.all(sends);
  await waitUntil(() => watcher.seenAt.size >= seq, 20_000).catch(() => {});
  await waitUntil(() => polled.seenAt.size >= seq, 10_000).catch(() => {});
  watcher.stop();
  polled.stop();

  const listener = latencies(published, watcher.seenAt);
  const poll = latencies(published, polled.seenAt);
  return {
    sent: seq,
    listener: {
      p50: percentile(listener.values, 50),
      p99: percentile(listener.values, 99),
      lost: listener.missing,
    },
    poll: {
      p50: percentile(poll.values, 50),
      p99: percentile(poll.values, 99),
      lost: poll.missing,
    },
  };
}

// A reader of GET /deployments/:id/logs every 2 s with the cursor it got.
function pollLines(api: string, deploymentId: string) {
  const seenAt = new Map<number, number>();
  let after: string | null = null;
  let stopped = false;
  const poll = async () => {
    const query = after ? `?after=${after}` : '';
    const response = await fetch(
      `${api}/deployments/${deploymentId}/logs${query}`,
    );
    const body = (await response.json()) as {
      lines: LogLine[];
      next: string | null;
    };
    const now = performance.now();
    for (const line of body.lines) {
      const n = Number(line.text.slice(line.text.lastIndexOf(' ') + 1));
      if (!seenAt.has(n)) seenAt.set(n, now);
    }
    after = body.next;
  };
  const loop = async () => {
    while (!stopped) {
      await poll().catch((error: unknown) => console.error(error));
      await sleep(2000);
    }
  };
  void loop();
  return {
    seenAt,
    stop: () => {
      stopped = true;
    },
  };
}

// Floods the subscription with one-entry messages and measures how fast
// they drain once the backlog is steady.
async function measureSinkCapacity(stack: Stack): Promise<number> {
  const { id, buildId } = await createDeployment();
  const watcher = watchLines(stack.web, id);
  await watcher.ready;
  const topic = pubsub().topic(TOPICS.deploymentLogs);
  const total = 4000;
  const sends: Promise<string>[] = [];
  for (let i = 1; i <= total; i++) {
    sends.push(
      topic.publishMessage({
        data: json(buildEntry(buildId, `flood ${i}`, i)),
      }),
    );
  }
  await Promise.all(sends);
  const from = total * 0.2;
  const to = total * 0.8;
  await waitUntil(() => watcher.seenAt.size >= from, 60_000);
  const t0 = performance.now();
  await waitUntil(() => watcher.seenAt.size >= to, 60_000);
  const rate = (to - from) / ((performance.now() - t0) / 1000);
  await waitUntil(() => watcher.seenAt.size >= total, 60_000).catch(() => {});
  watcher.stop();
  return rate;
}

// Publishes one-entry messages at `rate` for SUSTAIN_SECONDS and checks that
// the backlog (published, not yet visible) does not grow.
async function measureSinkSustained(stack: Stack, rate: number) {
  const { id, buildId } = await createDeployment();
  const watcher = watchLines(stack.web, id);
  await watcher.ready;
  const topic = pubsub().topic(TOPICS.deploymentLogs, {
    batching: { maxMessages: 50, maxMilliseconds: 5 },
  });
  const tickMs = 20;
  const perTick = (rate * tickMs) / 1000;
  const start = performance.now();
  const backlog: number[] = [];
  let seq = 0;
  let due = 0;
  let nextSample = start + 1000;
  const sends: Promise<string>[] = [];
  while (performance.now() - start < SUSTAIN_SECONDS * 1000) {
    due += perTick;
    while (seq < Math.floor(due)) {
      seq += 1;
      sends.push(
        topic.publishMessage({
          data: json(buildEntry(buildId, `sink ${seq}`, seq)),
        }),
      );
    }
    if (performance.now() >= nextSample) {
      backlog.push(seq - watcher.seenAt.size);
      nextSample += 1000;
    }
    await sleep(tickMs);
  }
  await Promise.all(sends);
  await waitUntil(() => watcher.seenAt.size >= seq, 30_000).catch(() => {});
  watcher.stop();

  // Holding means the backlog of the last five seconds is no larger than
  // that of the first five, give or take one second of lines.
  const first = Math.max(...backlog.slice(0, 5));
  const last = Math.max(...backlog.slice(-5));
  return {
    rate: seq / SUSTAIN_SECONDS,
    holds: last <= first + rate,
    backlogStart: first,
    backlogEnd: last,
    lost: seq - watcher.seenAt.size,
  };
}

async function measureSinkLatency(stack: Stack, rate: number, seconds: number) {
  const { id, buildId } = await createDeployment();
  const watcher = watchLines(stack.web, id);
  await watcher.ready;
  const topic = pubsub().topic(TOPICS.deploymentLogs, {
    batching: { maxMessages: 1 },
  });
  const published = new Map<number, number>();
  const start = performance.now();
  const total = rate * seconds;
  const sends: Promise<string>[] = [];
  for (let i = 1; i <= total; i++) {
    await sleepUntil(start + (i * 1000) / rate);
    published.set(i, performance.now());
    sends.push(
      topic.publishMessage({
        data: json(buildEntry(buildId, `steady ${i}`, i)),
      }),
    );
  }
  await Promise.all(sends);
  await waitUntil(() => watcher.seenAt.size >= total, 20_000).catch(() => {});
  watcher.stop();
  const latency = latencies(published, watcher.seenAt);
  return {
    p50: percentile(latency.values, 50),
    p99: percentile(latency.values, 99),
    lost: latency.missing,
  };
}

async function measureBurst(stack: Stack, total: number, perMessage: number) {
  const { id, buildId } = await createDeployment();
  const watcher = watchLines(stack.web, id);
  await watcher.ready;
  const writesBefore = { ...logWriter().writes };
  const topic = pubsub().topic(TOPICS.deploymentLogs);
  const start = performance.now();
  const sends: Promise<string>[] = [];
  for (let first = 1; first <= total; first += perMessage) {
    const entries: LogEntry[] = [];
    for (let i = first; i < first + perMessage && i <= total; i++) {
      entries.push(buildEntry(buildId, `burst ${i}`, i));
    }
    sends.push(topic.publishMessage({ data: json({ entries }) }));
  }
  await Promise.all(sends);
  await waitUntil(() => watcher.seenAt.size >= total, 90_000).catch(() => {});
  const seconds = (performance.now() - start) / 1000;
  await sleep(1500);
  await logWriter().flushStats();
  watcher.stop();
  const chunkWrites = logWriter().writes.chunks - writesBefore.chunks;
  const statsWrites = logWriter().writes.stats - writesBefore.stats;
  return {
    seconds,
    lost: total - watcher.seenAt.size,
    chunkWrites,
    statsWrites,
    writesPer1000: ((chunkWrites + statsWrites) * 1000) / total,
  };
}

// Helpers.

const benchStart = Date.now();

function buildEntry(buildId: string, text: string, seq: number): LogEntry {
  return {
    logName: `projects/${PROJECT_ID}/logs/cloudbuild`,
    resource: { type: 'build', labels: { build_id: buildId } },
    labels: { build_step: 'Step #2 - "build"' },
    textPayload: text,
    timestamp: new Date(benchStart + seq).toISOString(),
    insertId: `${buildId}-${seq}`,
  };
}

// The time ingestLogs took per push since the last call.
function handlerFigure(): string {
  const taken = handlerMs.splice(0);
  return (
    `p50 ${ms(percentile(taken, 50))}, p99 ${ms(percentile(taken, 99))} ` +
    `over ${taken.length} pushes`
  );
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function latencies(sent: Map<number, number>, seen: Map<number, number>) {
  const values: number[] = [];
  let missing = 0;
  for (const [n, at] of sent) {
    const seenAt = seen.get(n);
    if (seenAt === undefined) missing += 1;
    else values.push(seenAt - at);
  }
  return { values, missing };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, index)]!;
}

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function sleepUntil(time: number) {
  const wait = time - performance.now();
  if (wait > 0) await sleep(wait);
}

async function waitUntil(done: () => boolean, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runLogBench().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
