import {
  COLLECTIONS,
  compareLines,
  LOG_LIMITS,
  TAIL_CHUNK_ID,
  type LogLine,
  type LogStats,
} from '@sigyl/types';
import {
  FieldValue,
  Timestamp,
  type DocumentReference,
} from 'firebase-admin/firestore';
import { config } from '../config.ts';
import { db } from '../firestore.ts';
import { errorFields, log } from '../log.ts';
import { secretStore } from '../secrets.ts';
import { cutLine } from './cut.ts';
import { secretMasker, type Masker } from './mask.ts';
import { nowTs, tsFromNanos, tsToNanos } from './timestamps.ts';

export type LogLimits = {
  lineBytes: number;
  linesPerDeployment: number;
  bytesPerDeployment: number;
  // Past the volume limit, the newest lines kept in the `tail` chunk.
  tailLines: number;
  tailBytes: number;
};

export const DEFAULT_LIMITS: LogLimits = {
  ...LOG_LIMITS,
  tailLines: 1000,
  tailBytes: 512 * 1024,
};

export type LogWriterOptions = {
  limits?: Partial<LogLimits>;
  // Least time between two updates of a deployment's logStats: a single
  // Firestore document takes about one sustained write per second.
  statsIntervalMs?: number;
  // How long a lone line waits for others to share its write.
  lingerMs?: number;
};

// A Firestore document holds at most 1 MiB and a request 10 MiB.
const CHUNK_BYTES = 800 * 1024;
const COMMIT_BYTES = 8 * 1024 * 1024;
// Small writes add their lines to the newest chunk until it holds this much,
// instead of making a document each: a slow step or a sink's one-entry
// pushes would otherwise leave a document per line, each one read by every
// page that opens the log (and on the emulator, every listener on a
// collection slows each write to it by the collection's size). The bound
// keeps what a listener is sent again on each change small, and the writes
// to one document few.
const OPEN_CHUNK_LINES = 32;
const OPEN_CHUNK_BYTES = 16 * 1024;
// Estimated bytes of a stored line besides its text: field names, id, ts.
const LINE_OVERHEAD = 160;
// Ids of lines already written, per deployment, to skip redelivered entries.
const RECENT_IDS = 20_000;
// Secrets are written before a deployment starts; an empty answer is asked
// again soon in case it came before them.
const NO_SECRETS_RECHECK_MS = 10_000;
const IDLE_MS = 10 * 60 * 1000;

// gRPC status code of an update to a document that does not exist.
const NOT_FOUND = 5;
const LIMIT_NOTICE_ID = 'log-limit';

type Plan = {
  fresh: LogLine[];
  stored: LogLine[];
  storedBytes: number;
  // The tail chunk's new lines, when they changed.
  tail: LogLine[] | null;
  before: { tail: LogLine[] | null; omitted: number };
  delta: { lines: number; bytes: number; omitted: number };
};

type OpenChunk = { ref: DocumentReference; lines: number; bytes: number };

// One chunk document of a commit: made whole, or lines added to the end.
type ChunkWrite = { ref: DocumentReference; lines: LogLine[]; append: boolean };

type Waiter = {
  lines: LogLine[];
  // It came while a write was in flight.
  waited: boolean;
  lingered?: boolean;
  settle: (error?: unknown) => void;
};

// What one instance knows of a deployment's log. The counts start from the
// deployment's logStats and are kept here; with several instances writing
// the same deployment they are approximate, which the limits tolerate.
type DeploymentLog = {
  id: string;
  ready: Promise<void> | null;
  queue: Waiter[];
  writing: boolean;
  storedLines: number;
  storedBytes: number;
  omitted: number;
  // Null until the volume limit is reached.
  tail: LogLine[] | null;
  // The newest chunk this instance wrote, while it has room.
  open: OpenChunk | null;
  recentIds: Set<string>;
  masker: { mask: Masker; loadedAt: number; empty: boolean } | null;
  unsaved: LogStats & { newestTs: string | null };
  savedNewestTs: string | null;
  statsSavedAt: number;
  statsTimer: NodeJS.Timeout | null;
  linger: NodeJS.Timeout | null;
  // Whether the last lone line that lingered got company.
  lingerFoundCompany: boolean;
  usedAt: number;
};

// Writes lines into deployments/{id}/logs chunks. Lines that arrive while a
// deployment's write is in flight go into its next write (group commit), and
// `append` resolves only once its lines are committed.
export class LogWriter {
  readonly limits: LogLimits;
  // Firestore writes made so far, for benchmarks and operators.
  readonly writes = { chunks: 0, stats: 0 };
  private readonly statsIntervalMs: number;
  private readonly lingerMs: number;
  private readonly logs = new Map<string, DeploymentLog>();
  private sweptAt = Date.now();

  constructor(options: LogWriterOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.statsIntervalMs = options.statsIntervalMs ?? 1000;
    this.lingerMs = options.lingerMs ?? 5;
  }

  async append(deploymentId: string, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const state = this.stateOf(deploymentId);
    state.ready ??= this.load(state).catch((error: unknown) => {
      state.ready = null;
      throw error;
    });
    await state.ready;

    const mask = await this.maskerOf(state);
    const prepared = lines.map((line) => {
      const { text, fullLength } = cutLine(
        mask(line.text),
        this.limits.lineBytes,
      );
      return fullLength === undefined
        ? { ...line, text }
        : { ...line, text, fullLength };
    });

    return new Promise<void>((resolve, reject) => {
      state.queue.push({
        lines: prepared,
        waited: state.writing,
        settle: (error) => (error ? reject(error) : resolve()),
      });
      this.pump(state);
    });
  }

  // Writes the counters that are waiting for their interval.
  async flushStats(): Promise<void> {
    await Promise.all([...this.logs.values()].map((s) => this.saveStats(s)));
  }

  private stateOf(id: string): DeploymentLog {
    this.sweepIdle();
    let state = this.logs.get(id);
    if (!state) {
      state = {
        id,
        ready: null,
        queue: [],
        writing: false,
        storedLines: 0,
        storedBytes: 0,
        omitted: 0,
        tail: null,
        open: null,
        recentIds: new Set(),
        masker: null,
        unsaved: { lines: 0, omitted: 0, bytes: 0, newestTs: null },
        savedNewestTs: null,
        statsSavedAt: 0,
        statsTimer: null,
        linger: null,
        lingerFoundCompany: true,
        usedAt: Date.now(),
      };
      this.logs.set(id, state);
    }
    state.usedAt = Date.now();
    return state;
  }

  private async load(state: DeploymentLog) {
    const [deployment, tail] = await Promise.all([
      deploymentRef(state.id).get(),
      chunksOf(state.id).doc(TAIL_CHUNK_ID).get(),
    ]);
    if (!deployment.exists) {
      throw new Error(`deployment ${state.id} does not exist`);
    }
    const stats = deployment.get('logStats') as Partial<LogStats> | undefined;
    const tailLines = (
      (tail.get('lines') as LogLine[] | undefined) ?? []
    ).filter((line) => line.id !== LIMIT_NOTICE_ID);
    state.tail = tail.exists ? tailLines : null;
    state.storedLines = (stats?.lines ?? 0) - tailLines.length;
    state.storedBytes =
      (stats?.bytes ?? 0) - sum(tailLines.map((l) => textBytes(l)));
    state.omitted = stats?.omitted ?? 0;
    state.savedNewestTs = (deployment.get('lastLineAt') as string) ?? null;
  }

  private async maskerOf(state: DeploymentLog): Promise<Masker> {
    const cached = state.masker;
    if (
      cached &&
      (!cached.empty || Date.now() - cached.loadedAt < NO_SECRETS_RECHECK_MS)
    ) {
      return cached.mask;
    }
    const secrets = await secretStore().get(state.id);
    state.masker = {
      mask: secretMasker(secrets),
      loadedAt: Date.now(),
      empty: Object.keys(secrets).length === 0,
    };
    return state.masker.mask;
  }

  // One write per deployment at a time; what arrives meanwhile goes into the
  // next write. A lone line lingers a moment for company, as a sink's pushes
  // carry one entry each and a write of two lines takes no longer than one.
  // It lingers when it waited for a write (the lines of that write are being
  // answered, so the next push is on its way) or when lingering last found
  // company; otherwise a lone sender would wait for nobody on every line.
  private pump(state: DeploymentLog) {
    if (state.writing || state.queue.length === 0) return;
    const [first] = state.queue;
    if (
      state.queue.length === 1 &&
      !first!.lingered &&
      (first!.waited || state.lingerFoundCompany)
    ) {
      first!.lingered = true;
      state.linger = setTimeout(() => {
        // A line that came meanwhile would have ended the linger.
        state.linger = null;
        state.lingerFoundCompany = false;
        this.pump(state);
      }, this.lingerMs);
      return;
    }
    if (state.linger) {
      clearTimeout(state.linger);
      state.linger = null;
      state.lingerFoundCompany = true;
    }
    const taken = takeUpTo(state.queue, COMMIT_BYTES);
    state.writing = true;
    void this.write(state, taken).finally(() => {
      state.writing = false;
      this.pump(state);
    });
  }

  private async write(state: DeploymentLog, taken: Waiter[]) {
    const plan = this.plan(
      state,
      taken.flatMap((waiter) => waiter.lines),
    );
    let failure: unknown = null;
    try {
      state.open = await this.commit(state, plan);
      this.record(state, plan);
      // The counters follow on their own; a line is stored without them.
      void this.noteStats(state);
    } catch (error) {
      this.unplan(state, plan);
      failure = error;
    }
    for (const waiter of taken) waiter.settle(failure ?? undefined);
  }

  private record(state: DeploymentLog, plan: Plan) {
    state.unsaved.lines += plan.delta.lines;
    state.unsaved.bytes += plan.delta.bytes;
    state.unsaved.omitted += plan.delta.omitted;
    for (const line of plan.fresh) {
      if (!state.unsaved.newestTs || line.ts > state.unsaved.newestTs) {
        state.unsaved.newestTs = line.ts;
      }
      remember(state.recentIds, line.id);
    }
  }

  // Decides where each line goes and counts it at once; `unplan` takes the
  // counts back when the write fails.
  private plan(state: DeploymentLog, incoming: LogLine[]): Plan {
    const fresh: LogLine[] = [];
    const seen = new Set<string>();
    for (const line of incoming) {
      if (state.recentIds.has(line.id) || seen.has(line.id)) continue;
      seen.add(line.id);
      fresh.push(line);
    }

    const before = { tail: state.tail, omitted: state.omitted };
    let tail = state.tail ? [...state.tail] : null;
    let tailSize = sum((tail ?? []).map(lineSize));
    const stored: LogLine[] = [];
    for (const line of fresh) {
      const bytes = textBytes(line);
      if (
        tail === null &&
        state.storedLines + 1 <= this.limits.linesPerDeployment &&
        state.storedBytes + bytes <= this.limits.bytesPerDeployment
      ) {
        stored.push(line);
        state.storedLines += 1;
        state.storedBytes += bytes;
        continue;
      }
      tail ??= [];
      insertSorted(tail, line);
      tailSize += lineSize(line);
      while (
        tail.length > this.limits.tailLines ||
        tailSize > this.limits.tailBytes
      ) {
        tailSize -= lineSize(tail.shift()!);
        state.omitted += 1;
      }
    }
    const tailChanged = stored.length < fresh.length;
    state.tail = tail;

    const storedBytes = sum(stored.map(textBytes));
    const tailBytes = (lines: LogLine[] | null) =>
      sum((lines ?? []).map(textBytes));
    return {
      fresh,
      stored,
      storedBytes,
      tail: tailChanged ? tail : null,
      before,
      delta: {
        lines: stored.length + (tail?.length ?? 0) - (before.tail?.length ?? 0),
        bytes: storedBytes + tailBytes(tail) - tailBytes(before.tail),
        omitted: state.omitted - before.omitted,
      },
    };
  }

  private unplan(state: DeploymentLog, plan: Plan) {
    state.storedLines -= plan.stored.length;
    state.storedBytes -= plan.storedBytes;
    state.tail = plan.before.tail;
    state.omitted = plan.before.omitted;
  }

  // Writes the stored lines, into the open chunk when they fit there, and
  // the tail chunk when it changed; returns the open chunk after the write.
  private async commit(
    state: DeploymentLog,
    plan: Plan,
  ): Promise<OpenChunk | null> {
    const open = state.open;
    const storedSize = sum(plan.stored.map(lineSize));
    const appending =
      open !== null &&
      plan.stored.length > 0 &&
      fitsOpenChunk(open.lines + plan.stored.length, open.bytes + storedSize);
    const docs: ChunkWrite[] = appending
      ? [{ ref: open.ref, lines: plan.stored, append: true }]
      : groupBySize(plan.stored, lineSize, CHUNK_BYTES).map((lines) => ({
          ref: chunksOf(state.id).doc(),
          lines,
          append: false,
        }));
    const newest = docs.at(-1);
    if (plan.tail) {
      docs.push({
        ref: chunksOf(state.id).doc(TAIL_CHUNK_ID),
        lines: [this.limitNotice(plan.tail, state.omitted), ...plan.tail],
        append: false,
      });
    }

    const expireAt = Timestamp.fromMillis(
      Date.now() + config().logRetentionDays * 24 * 60 * 60 * 1000,
    );
    const docBytes = (doc: ChunkWrite) => sum(doc.lines.map(lineSize));
    for (const group of groupBySize(docs, docBytes, COMMIT_BYTES)) {
      const batch = db().batch();
      for (const { ref, lines, append } of group) {
        const stored = lines.map(withoutUndefined);
        // arrayUnion appends on the server, so another instance writing the
        // same chunk never loses lines; merge creates it if the TTL took it.
        batch.set(
          ref,
          {
            lines: append ? FieldValue.arrayUnion(...stored) : stored,
            writtenAt: FieldValue.serverTimestamp(),
            expireAt,
          },
          { merge: append },
        );
      }
      await batch.commit();
      this.writes.chunks += group.length;
    }

    if (appending) {
      return {
        ref: open.ref,
        lines: open.lines + plan.stored.length,
        bytes: open.bytes + storedSize,
      };
    }
    if (!newest) return open;
    const bytes = docBytes(newest);
    return fitsOpenChunk(newest.lines.length, bytes)
      ? { ref: newest.ref, lines: newest.lines.length, bytes }
      : null;
  }

  // The first line of the tail chunk: what was left out before it.
  private limitNotice(tail: LogLine[], omitted: number): LogLine {
    const first = tail[0];
    const mib = Math.round(this.limits.bytesPerDeployment / 1024 / 1024);
    return {
      id: LIMIT_NOTICE_ID,
      ts: first ? tsFromNanos(tsToNanos(first.ts) - 1n) : nowTs(),
      text:
        `This log passed its limit of ` +
        `${this.limits.linesPerDeployment.toLocaleString('en-US')} lines ` +
        `or ${mib} MiB: ${omitted.toLocaleString('en-US')} lines were left ` +
        `out here, and the newest lines follow.`,
      source: 'system',
    };
  }

  // Counters wait for their interval on a timer. In Google Cloud a timer can
  // run late, as an instance gets little CPU between requests; the counters
  // then catch up with the deployment's next write.
  private async noteStats(state: DeploymentLog) {
    const wait = state.statsSavedAt + this.statsIntervalMs - Date.now();
    if (wait <= 0) {
      await this.saveStats(state);
    } else {
      state.statsTimer ??= setTimeout(() => {
        state.statsTimer = null;
        void this.saveStats(state);
      }, wait);
    }
  }

  // Log storage only ever touches logStats and lastLineAt, never status.
  private async saveStats(state: DeploymentLog) {
    const delta = state.unsaved;
    const newer =
      delta.newestTs !== null &&
      (state.savedNewestTs === null || delta.newestTs > state.savedNewestTs);
    if (!delta.lines && !delta.omitted && !delta.bytes && !newer) return;

    state.unsaved = { lines: 0, omitted: 0, bytes: 0, newestTs: null };
    state.statsSavedAt = Date.now();
    try {
      await deploymentRef(state.id).update({
        'logStats.lines': FieldValue.increment(delta.lines),
        'logStats.omitted': FieldValue.increment(delta.omitted),
        'logStats.bytes': FieldValue.increment(delta.bytes),
        ...(newer ? { lastLineAt: delta.newestTs } : {}),
      });
      this.writes.stats += 1;
      if (newer) state.savedNewestTs = delta.newestTs;
    } catch (error) {
      // The deployment is gone: nothing to count any more.
      if ((error as { code?: number }).code === NOT_FOUND) return;
      log('WARNING', 'log counters not saved; kept for the next try', {
        deploymentId: state.id,
        ...errorFields(error),
      });
      state.unsaved.lines += delta.lines;
      state.unsaved.omitted += delta.omitted;
      state.unsaved.bytes += delta.bytes;
      if (
        delta.newestTs &&
        (!state.unsaved.newestTs || delta.newestTs > state.unsaved.newestTs)
      ) {
        state.unsaved.newestTs = delta.newestTs;
      }
    }
  }

  // Forgets deployments that have been quiet for a while.
  private sweepIdle() {
    const now = Date.now();
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [id, state] of this.logs) {
      const pending =
        state.writing ||
        state.queue.length > 0 ||
        state.statsTimer !== null ||
        state.unsaved.lines !== 0;
      if (!pending && now - state.usedAt > IDLE_MS) this.logs.delete(id);
    }
  }
}

let writer: LogWriter | null = null;

export function logWriter(): LogWriter {
  writer ??= new LogWriter();
  return writer;
}

// Tests and benchmarks install a writer with other limits.
export function setLogWriter(next: LogWriter | null) {
  writer = next;
}

function deploymentRef(id: string): DocumentReference {
  return db().collection(COLLECTIONS.deployments).doc(id);
}

function chunksOf(id: string) {
  return deploymentRef(id).collection(COLLECTIONS.logs);
}

function fitsOpenChunk(lines: number, bytes: number): boolean {
  return lines <= OPEN_CHUNK_LINES && bytes <= OPEN_CHUNK_BYTES;
}

function textBytes(line: LogLine): number {
  return Buffer.byteLength(line.text, 'utf8');
}

function lineSize(line: LogLine): number {
  return textBytes(line) + LINE_OVERHEAD;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function takeUpTo(queue: Waiter[], maxBytes: number): Waiter[] {
  let bytes = 0;
  let count = 0;
  for (const waiter of queue) {
    const size = sum(waiter.lines.map(lineSize));
    if (count > 0 && bytes + size > maxBytes) break;
    bytes += size;
    count += 1;
  }
  return queue.splice(0, count);
}

// Consecutive groups, each within maxBytes (an item larger than that goes
// alone).
function groupBySize<T>(
  items: T[],
  sizeOf: (item: T) => number,
  maxBytes: number,
): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && bytes + size > maxBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function insertSorted(lines: LogLine[], line: LogLine) {
  let index = lines.length;
  while (index > 0 && compareLines(lines[index - 1]!, line) > 0) index--;
  lines.splice(index, 0, line);
}

function remember(ids: Set<string>, id: string) {
  ids.add(id);
  if (ids.size > RECENT_IDS) {
    const oldest = ids.values().next().value;
    if (oldest !== undefined) ids.delete(oldest);
  }
}

// Firestore refuses undefined field values.
function withoutUndefined(line: LogLine): LogLine {
  return Object.fromEntries(
    Object.entries(line).filter(([, value]) => value !== undefined),
  ) as LogLine;
}
