import type { Server } from 'node:http';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { COLLECTIONS, type LogLine } from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/stack/processes.ts';
import {
  seedBuildingDeployment,
  uniqueId,
  useTestProject,
} from '../../test/env.ts';
import { db } from '../firestore.ts';
import { appendSystemLines } from '../logs/system.ts';
import { nowTs, tsFromNanos, tsToNanos } from '../logs/timestamps.ts';
import { logWriter } from '../logs/writer.ts';
import { handleGetLogs, openLogStreams } from './logs.ts';

useTestProject('logsapi');

let server: Server;
let base: string;

beforeAll(async () => {
  http('logsApi', async (req, res) => {
    const id = /^\/deployments\/([a-z0-9]+)\/logs$/.exec(req.path)?.[1];
    if (!id) res.status(404).end();
    else await handleGetLogs(req, res, id);
  });
  const port = await freePort();
  server = getTestServer('logsApi');
  await new Promise<void>((resolve) =>
    server.listen(port, '127.0.0.1', resolve),
  );
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await logWriter().flushStats();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('GET /deployments/:id/logs', () => {
  it('returns ordered lines once each, and a cursor that misses no late line', async () => {
    const deploymentId = await seedBuildingDeployment();
    const lines = numbered(5);
    await logWriter().append(deploymentId, lines.slice(2));
    await logWriter().append(deploymentId, [lines[1]!]);

    const first = await getJson(deploymentId);
    expect(first.lines.map((l) => l.text)).toEqual(texts(2, 5));

    // A line printed first that arrives last, and a repeat of one sent.
    await logWriter().append(deploymentId, [lines[0]!]);
    await writeChunkDirectly(deploymentId, [lines[3]!]);
    const second = await getJson(deploymentId, first.next);
    expect(second.lines.map((l) => l.text)).toEqual(['line 1', 'line 4']);

    const third = await getJson(deploymentId, second.next);
    expect(third).toEqual({ lines: [], next: second.next });

    const whole = await getJson(deploymentId);
    expect(whole.lines.map((l) => l.text)).toEqual(texts(1, 5));
  });

  it('sends each line of a chunk that grows between two reads once', async () => {
    const deploymentId = await seedBuildingDeployment();
    // One line a write: each joins the newest chunk until it is full, so
    // most reads find a chunk they read before, with more lines in it.
    const lines = numbered(40);
    const received: string[] = [];
    let next: string | null = null;
    for (const line of lines) {
      await logWriter().append(deploymentId, [line]);
      const page = await getJson(deploymentId, next);
      received.push(...page.lines.map((l) => l.text));
      next = page.next;
    }
    expect(received).toEqual(texts(1, 40));
    const chunks = await db()
      .collection(COLLECTIONS.deployments)
      .doc(deploymentId)
      .collection(COLLECTIONS.logs)
      .get();
    expect(chunks.size).toBeLessThan(lines.length / 10);
  });

  it('refuses a cursor it did not make', async () => {
    const deploymentId = await seedBuildingDeployment();
    const response = await fetch(
      `${base}/deployments/${deploymentId}/logs?after=nonsense`,
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_argument', field: 'after' },
    });
  });

  it('streams the stored lines, then new lines and status changes', async () => {
    // Opened half way through a step: what was printed comes at once.
    const deploymentId = await seedBuildingDeployment();
    const lines = numbered(300);
    await logWriter().append(deploymentId, lines.slice(0, 150));

    const stream = await openStream(deploymentId);
    await stream.waitFor((events) => lineTexts(events).length === 150);
    expect(lineTexts(stream.events)).toEqual(texts(1, 150));
    expect(stream.events.find((e) => e.event === 'status')?.data).toEqual({
      status: 'building',
      error: null,
      url: null,
      finishedAt: null,
    });

    for (let i = 150; i < 300; i += 10) {
      await logWriter().append(deploymentId, lines.slice(i, i + 10));
    }
    await appendSystemLines(deploymentId, ['Build finished'], 'build');
    await db()
      .collection(COLLECTIONS.deployments)
      .doc(deploymentId)
      .update({ status: 'deploying' });
    await stream.waitFor((events) =>
      events.some((e) => e.event === 'status' && e.data.status === 'deploying'),
    );
    await stream.waitFor((events) => lineTexts(events).length === 301);
    expect(lineTexts(stream.events)).toEqual([
      ...texts(1, 300),
      'Build finished',
    ]);

    expect(openLogStreams()).toBe(1);
    stream.close();
    await waitUntil(() => openLogStreams() === 0);
  });

  it('resumes after a disconnect with every line exactly once', async () => {
    const deploymentId = await seedBuildingDeployment();
    const lines = numbered(100);
    await logWriter().append(deploymentId, lines.slice(0, 40));

    const before = await openStream(deploymentId);
    await before.waitFor((events) => lineTexts(events).length === 40);
    const lastId = before.events.filter((e) => e.id).at(-1)?.id;
    before.close();

    // Offline: lines go on, one of them late (printed before the others).
    await logWriter().append(deploymentId, lines.slice(41, 100));
    await logWriter().append(deploymentId, [lines[40]!]);

    const after = await openStream(deploymentId, lastId);
    await after.waitFor((events) => lineTexts(events).length === 60);
    await new Promise((resolve) => setTimeout(resolve, 300));
    after.close();
    const seen = [...lineTexts(before.events), ...lineTexts(after.events)];
    expect([...seen].sort()).toEqual(texts(1, 100).sort());
  });
});

// Helpers.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SseEvent = { event: string; id?: string; data: any };

// Lines printed in order, each its own nanosecond apart, as a producer
// writes them.
function numbered(count: number): LogLine[] {
  const start = tsToNanos(nowTs());
  return Array.from({ length: count }, (_, i) => ({
    id: uniqueId('l'),
    ts: tsFromNanos(start + BigInt(i)),
    text: `line ${i + 1}`,
    source: 'build' as const,
    step: 'build',
  }));
}

function texts(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);
}

// A chunk that repeats a line: what a second writer instance may store.
async function writeChunkDirectly(deploymentId: string, lines: LogLine[]) {
  const { FieldValue } = await import('firebase-admin/firestore');
  await db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .add({ lines, writtenAt: FieldValue.serverTimestamp() });
}

async function getJson(deploymentId: string, after?: string | null) {
  const query = after ? `?after=${after}` : '';
  const response = await fetch(
    `${base}/deployments/${deploymentId}/logs${query}`,
  );
  expect(response.status).toBe(200);
  return (await response.json()) as { lines: LogLine[]; next: string | null };
}

function lineTexts(events: SseEvent[]): string[] {
  return events
    .filter((e) => e.event === 'line')
    .map((e) => (e.data as LogLine).text);
}

async function openStream(deploymentId: string, lastEventId?: string) {
  const controller = new AbortController();
  const response = await fetch(`${base}/deployments/${deploymentId}/logs`, {
    headers: {
      accept: 'text/event-stream',
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    },
    signal: controller.signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: SseEvent[] = [];
  const reading = (async () => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) events.push(event);
      }
    }
  })().catch(() => undefined);
  return {
    events,
    waitFor: (done: (events: SseEvent[]) => boolean) =>
      waitUntil(() => done(events)),
    close() {
      controller.abort();
      void reading;
    },
  };
}

function parseEvent(block: string): SseEvent | null {
  const fields = new Map<string, string>();
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    fields.set(line.slice(0, colon), line.slice(colon + 2));
  }
  const event = fields.get('event');
  const data = fields.get('data');
  if (!event || data === undefined) return null;
  return { event, id: fields.get('id'), data: JSON.parse(data) };
}

async function waitUntil(done: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
