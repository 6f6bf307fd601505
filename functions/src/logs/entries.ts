import { createHash } from 'node:crypto';
import type { LineSource, LogLine } from '@sigyl/types';
import { normaliseTs } from './timestamps.ts';

// The parts of a Cloud Logging LogEntry that we read, as a Logging sink
// publishes it (JSON, camelCase field names).
export type LogEntry = {
  logName?: string;
  resource?: { type?: string; labels?: Record<string, string> };
  labels?: Record<string, string>;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  protoPayload?: unknown;
  timestamp?: string;
  receiveTimestamp?: string;
  insertId?: string;
  severity?: string;
};

// Where an entry belongs, before we know whether that deployment exists.
export type EntryTarget =
  | { kind: 'build'; buildId: string; step?: string }
  | {
      kind: 'runtime';
      serviceName: string;
      deploymentId: string;
      stream?: 'stdout' | 'stderr';
    }
  | { kind: 'ignored'; reason: string };

// A message on deployment-logs holds one LogEntry (from a sink) or
// `{ entries: [...] }` (from our own producers). Returns the entries, or why
// the message can never be read.
export function entriesFromMessage(
  data: string | undefined,
): LogEntry[] | { invalid: string } {
  if (!data) return { invalid: 'message has no data' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return { invalid: 'message data is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { invalid: 'message data is not a JSON object' };
  }
  if ('entries' in parsed) {
    const { entries } = parsed as { entries: unknown };
    if (!Array.isArray(entries)) return { invalid: '"entries" is not a list' };
    return entries.filter(
      (entry): entry is LogEntry => typeof entry === 'object' && entry !== null,
    );
  }
  if (!('resource' in parsed) && !('logName' in parsed)) {
    return { invalid: 'message data is neither a LogEntry nor { entries }' };
  }
  return [parsed as LogEntry];
}

const BUILD_STEP = /^Step #\d+ - "(.*)"$/;
const DEPLOYMENT_ID = /^[a-z0-9]+$/;

export function targetOf(entry: LogEntry): EntryTarget {
  const type = entry.resource?.type;
  const labels = entry.resource?.labels ?? {};
  const logName = entry.logName ?? '';

  if (type === 'build') {
    // Audit entries share the resource type; only the build's own log is ours.
    if (!logName.endsWith('/logs/cloudbuild')) {
      return { kind: 'ignored', reason: `build log ${logName || '(none)'}` };
    }
    const buildId = labels.build_id;
    if (!buildId) return { kind: 'ignored', reason: 'build entry without id' };
    const step = BUILD_STEP.exec(entry.labels?.build_step ?? '')?.[1];
    return step ? { kind: 'build', buildId, step } : { kind: 'build', buildId };
  }

  if (type === 'cloud_run_revision') {
    const serviceName = labels.service_name ?? '';
    const revisionName = labels.revision_name ?? '';
    // Revisions are named `<serviceName>-<deploymentId>`.
    const deploymentId = revisionName.slice(serviceName.length + 1);
    if (
      !serviceName ||
      !revisionName.startsWith(`${serviceName}-`) ||
      !DEPLOYMENT_ID.test(deploymentId)
    ) {
      return {
        kind: 'ignored',
        reason: `revision ${revisionName || '(none)'} is not one of ours`,
      };
    }
    const stream = /run\.googleapis\.com(%2F|\/)(stdout|stderr)$/.exec(
      logName,
    )?.[2] as 'stdout' | 'stderr' | undefined;
    return stream
      ? { kind: 'runtime', serviceName, deploymentId, stream }
      : { kind: 'runtime', serviceName, deploymentId };
  }

  return { kind: 'ignored', reason: `resource type ${type ?? '(none)'}` };
}

// The user's line for an entry, or null when the entry carries no text.
export function lineFromEntry(
  entry: LogEntry,
  source: LineSource,
  extra: Pick<LogLine, 'step' | 'stream'> = {},
): LogLine | null {
  const text = payloadText(entry);
  if (text === null) return null;

  const ts =
    normaliseTs(entry.timestamp) ??
    normaliseTs(entry.receiveTimestamp) ??
    normaliseTs(new Date().toISOString())!;
  const line: LogLine = { id: lineId(entry, ts, text), ts, text, source };
  if (extra.step) line.step = extra.step;
  if (extra.stream) line.stream = extra.stream;
  if (entry.severity && entry.severity !== 'DEFAULT') {
    line.severity = entry.severity;
  }
  return line;
}

function payloadText(entry: LogEntry): string | null {
  if (typeof entry.textPayload === 'string') {
    // The newline that ended the printed line is not part of it.
    return entry.textPayload.replace(/\r?\n$/, '');
  }
  const json = entry.jsonPayload;
  if (json && typeof json === 'object') {
    return typeof json.message === 'string'
      ? json.message
      : JSON.stringify(json);
  }
  return null;
}

// The same entry delivered twice gets the same id, so readers show it once.
// Cloud Logging gives every entry an insertId; without one the text stands in.
export function lineId(entry: LogEntry, ts: string, text: string): string {
  const key = entry.insertId
    ? `${entry.logName ?? ''}\n${entry.insertId}\n${ts}`
    : `${entry.logName ?? ''}\n\n${ts}\n${text}`;
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

// How long a build entry may wait for its build id to be recorded before it
// is taken for a build that is not ours.
export const UNMAPPED_GRACE_MS = 10 * 60 * 1000;

export function entryAgeMs(entry: LogEntry, now = Date.now()): number {
  const ts =
    normaliseTs(entry.timestamp) ?? normaliseTs(entry.receiveTimestamp);
  return ts ? now - Date.parse(ts.slice(0, 23) + 'Z') : 0;
}
