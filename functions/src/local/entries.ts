import { randomBytes } from 'node:crypto';
import { TOPICS } from '@sigyl/types';
import { config } from '../config.ts';
import { errorFields, log } from '../log.ts';
import { publishJson } from '../pubsub.ts';

// What the local builder and runner publish for each line of output: a Cloud
// Logging LogEntry, as a Logging sink would publish it, so the local path
// runs the same ingestion code as Google Cloud.
export type LogEntry = {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  textPayload: string;
  timestamp: string;
  receiveTimestamp: string;
  insertId: string;
  severity?: string;
  labels?: Record<string, string>;
};

// A clock with nanosecond steps that never repeats a value, so that lines
// printed within one tick keep their order when sorted by timestamp.
let lastNs = 0n;
const baseNs = BigInt(Date.now()) * 1_000_000n;
const baseHr = process.hrtime.bigint();

export function nextTimestamp(): string {
  let ns = baseNs + (process.hrtime.bigint() - baseHr);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  const ms = Number(ns / 1_000_000n);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + fraction + 'Z';
}

// Gathers entries and publishes them in `{ entries: [...] }` messages: one
// message per flush instead of one per line.
export class EntryPublisher {
  private pending: LogEntry[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly prefix = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(
    private readonly base: Pick<LogEntry, 'logName' | 'resource'>,
    private readonly flushMs = 50,
  ) {}

  add(text: string, extra: Partial<LogEntry> = {}) {
    const timestamp = nextTimestamp();
    const entry: LogEntry = {
      ...this.base,
      textPayload: text,
      timestamp,
      receiveTimestamp: timestamp,
      insertId: `${this.prefix}${(this.sequence++).toString(36).padStart(8, '0')}`,
      ...extra,
    };
    this.pending.push(entry);
    this.pendingBytes += text.length + 300;
    if (this.pending.length >= 500 || this.pendingBytes > 1_000_000) {
      this.flushNow();
    } else {
      this.timer ??= setTimeout(() => this.flushNow(), this.flushMs);
    }
  }

  // Resolves once everything added so far has been published.
  async flush(): Promise<void> {
    this.flushNow();
    await this.inFlight;
  }

  private flushNow() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    // Messages go out one after another, so entries keep their order.
    this.inFlight = this.inFlight.then(() =>
      publishJson(TOPICS.deploymentLogs, { entries }).then(
        () => undefined,
        (error: unknown) =>
          log('ERROR', 'publishing log entries failed', {
            lines: entries.length,
            ...errorFields(error),
          }),
      ),
    );
  }
}

export function logName(name: string) {
  return `projects/${config().projectId}/logs/${name}`;
}

// Splits a stream into lines. `\r` stays in the text, as written: the page
// shows a redrawn line as its final state. A line with no end is cut at
// 256 KiB, the size of one LogEntry.
export function lineSplitter(onLine: (line: string) => void) {
  let rest = '';
  return {
    write(chunk: Buffer | string) {
      rest += chunk.toString();
      let index: number;
      while ((index = rest.indexOf('\n')) !== -1) {
        onLine(rest.slice(0, index).replace(/\r$/, ''));
        rest = rest.slice(index + 1);
      }
      while (rest.length > 256 * 1024) {
        onLine(rest.slice(0, 256 * 1024));
        rest = rest.slice(256 * 1024);
      }
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}
