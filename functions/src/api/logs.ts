import type { Request, Response } from '@google-cloud/functions-framework';
import {
  COLLECTIONS,
  mergeLines,
  TAIL_CHUNK_ID,
  type DeploymentDoc,
  type LogLine,
} from '@sigyl/types';
import {
  FieldPath,
  Timestamp,
  type Query,
  type QueryDocumentSnapshot,
} from 'firebase-admin/firestore';
import { db } from '../firestore.ts';
import { errorFields, log } from '../log.ts';
import { invalid, RequestError } from './errors.ts';

// One response carries about this many lines; `next` fetches the rest.
const PAGE_LINES = 10_000;
const PAGE_CHUNKS = 50;
// Proxies close connections that stay silent for long.
const KEEPALIVE_MS = 15_000;

let openStreams = 0;

// How many event streams are open in this instance.
export function openLogStreams(): number {
  return openStreams;
}

// GET /deployments/:id/logs. The caller has checked that the user owns the
// deployment. The cursor names the last chunk read by its commit time
// (writtenAt) and id, so a line that arrives late, with an old ts, sits in a
// newer chunk and is never skipped; and how many of its lines were read, as
// a chunk can grow afterwards (its writtenAt moves on, so it is read again).
export async function handleGetLogs(
  req: Request,
  res: Response,
  deploymentId: string,
): Promise<void> {
  let after: Cursor | null;
  try {
    after = parseCursor(
      stringParam(req.query.after) ?? req.get('last-event-id') ?? null,
    );
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    res.status(error.status).json(error.toBody());
    return;
  }

  if (req.get('accept')?.includes('text/event-stream')) {
    streamLogs(req, res, deploymentId, after);
    return;
  }
  const { lines, next } = await readLogs(deploymentId, after);
  res.status(200).json({ lines, next });
}

// `seen` is null for the tail chunk, which is rewritten whole.
type Cursor = { writtenAt: Timestamp; chunkId: string; seen: number | null };

function chunksAfter(deploymentId: string, after: Cursor | null): Query {
  const query = db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .orderBy('writtenAt')
    .orderBy(FieldPath.documentId());
  return after ? query.startAfter(after.writtenAt, after.chunkId) : query;
}

async function readLogs(
  deploymentId: string,
  after: Cursor | null,
): Promise<{ lines: LogLine[]; next: string | null; more: boolean }> {
  const chunks: LogLine[][] = [];
  let cursor = after;
  let count = 0;
  let more = false;
  for (;;) {
    const page = await chunksAfter(deploymentId, cursor)
      .limit(PAGE_CHUNKS)
      .get();
    for (const doc of page.docs) {
      const all = linesOf(doc);
      const lines =
        cursor?.chunkId === doc.id && cursor.seen !== null
          ? all.slice(cursor.seen)
          : all;
      chunks.push(lines);
      count += lines.length;
      cursor = cursorOf(doc);
    }
    if (page.size < PAGE_CHUNKS) break;
    if (count >= PAGE_LINES) {
      more = true;
      break;
    }
  }
  return {
    lines: mergeLines(chunks),
    next: cursor ? formatCursor(cursor) : null,
    more,
  };
}

// Sends the stored lines, then new lines and status changes as they are
// written, until the client goes away. Each event that ends a batch of lines
// carries the cursor as its id, so a browser's EventSource resumes from it.
function streamLogs(
  req: Request,
  res: Response,
  deploymentId: string,
  after: Cursor | null,
) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': logs\n\n');
  openStreams += 1;

  const sentIds = new Set<string>();
  let lastStatus: string | null = null;
  const send = (event: string, data: unknown, id?: string) => {
    const idField = id ? `id: ${id}\n` : '';
    res.write(`event: ${event}\n${idField}data: ${JSON.stringify(data)}\n\n`);
  };

  // The listener only says that a chunk was written; the lines themselves
  // are read from the cursor on, so none is missed however many chunks
  // arrive between two snapshots. Listening to the newest chunk alone keeps
  // the listener cheap however long the log grows.
  let cursor = after;
  let reading: Promise<void> | null = null;
  let readAgain = false;
  const sendNewLines = async () => {
    let more = false;
    do {
      readAgain = false;
      const page = await readLogs(deploymentId, cursor);
      const { lines, next } = page;
      more = page.more;
      const fresh = lines.filter((line) => !sentIds.has(line.id));
      if (stopped) return;
      fresh.forEach((line, index) => {
        sentIds.add(line.id);
        const last = index === fresh.length - 1;
        send('line', line, last && next ? next : undefined);
      });
      cursor = parseCursor(next);
    } while ((readAgain || more) && !stopped);
  };
  const onChunk = () => {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = sendNewLines()
      .catch((error: unknown) => stop(error as Error))
      .finally(() => {
        reading = null;
      });
  };
  const stopLines = db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .orderBy('writtenAt', 'desc')
    .limit(1)
    .onSnapshot(onChunk, (error) => stop(error));
  const stopStatus = db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .onSnapshot(
      (snapshot) => {
        const deployment = snapshot.data() as DeploymentDoc | undefined;
        if (!deployment || deployment.status === lastStatus) return;
        lastStatus = deployment.status;
        send('status', {
          status: deployment.status,
          error: deployment.error ?? null,
          url: deployment.url ?? null,
          finishedAt: deployment.finishedAt ?? null,
        });
      },
      (error) => stop(error),
    );
  const keepalive = setInterval(
    () => res.write(': keepalive\n\n'),
    KEEPALIVE_MS,
  );

  let stopped = false;
  function stop(error?: Error) {
    if (stopped) return;
    stopped = true;
    openStreams -= 1;
    clearInterval(keepalive);
    stopLines();
    stopStatus();
    if (error) {
      log('ERROR', 'log stream ended by a listener error', {
        deploymentId,
        ...errorFields(error),
      });
    }
    res.end();
  }
  req.on('close', () => stop());
  res.on('close', () => stop());
}

function linesOf(doc: QueryDocumentSnapshot): LogLine[] {
  return (doc.get('lines') as LogLine[] | undefined) ?? [];
}

function cursorOf(doc: QueryDocumentSnapshot): Cursor {
  return {
    writtenAt: doc.get('writtenAt') as Timestamp,
    chunkId: doc.id,
    seen: doc.id === TAIL_CHUNK_ID ? null : linesOf(doc).length,
  };
}

function formatCursor({ writtenAt, chunkId, seen }: Cursor): string {
  const parts = [writtenAt.seconds, writtenAt.nanoseconds, chunkId];
  if (seen !== null) parts.push(seen);
  return Buffer.from(parts.join('.')).toString('base64url');
}

// Cursors made before chunks could grow have no count of lines read.
function parseCursor(value: string | null): Cursor | null {
  if (!value) return null;
  const match = /^(\d+)\.(\d+)\.([A-Za-z0-9]+)(?:\.(\d+))?$/.exec(
    Buffer.from(value, 'base64url').toString('utf8'),
  );
  if (!match || Number(match[2]) >= 1e9) {
    throw invalid('after', 'after must be a cursor from an earlier `next`');
  }
  return {
    writtenAt: new Timestamp(Number(match[1]), Number(match[2])),
    chunkId: match[3]!,
    seen: match[4] === undefined ? null : Number(match[4]),
  };
}

function stringParam(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
