import { v2 } from '@google-cloud/logging';
import { COLLECTIONS, type LogLine } from '@sigyl/types';
import { config } from '../config.ts';
import { db } from '../firestore.ts';
import { log } from '../log.ts';
import { lineFromEntry, targetOf, type LogEntry } from '../logs/entries.ts';
import { logWriter } from '../logs/writer.ts';

// A LogEntry as the generated Logging client decodes it from the wire.
export type ApiLogEntry = {
  logName?: string | null;
  resource?: {
    type?: string | null;
    labels?: Record<string, string> | null;
  } | null;
  labels?: Record<string, string> | null;
  textPayload?: string | null;
  jsonPayload?: ApiStruct | null;
  timestamp?: ApiTimestamp | null;
  receiveTimestamp?: ApiTimestamp | null;
  insertId?: string | null;
  severity?: string | number | null;
};
type ApiTimestamp = { seconds?: string | number | null; nanos?: number | null };
type ApiStruct = { fields?: Record<string, ApiValue> | null };
type ApiValue = {
  nullValue?: unknown;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: ApiStruct | null;
  listValue?: { values?: ApiValue[] | null } | null;
};

export type LogEntriesClient = {
  listLogEntriesAsync(
    request: {
      resourceNames: string[];
      filter: string;
      orderBy: string;
      pageSize: number;
    },
    options?: { autoPaginate?: boolean },
  ): AsyncIterable<ApiLogEntry>;
};

// Logging#getEntries() turns timestamps into Dates and drops the
// nanoseconds; a line's id comes from the exact timestamp, so reconciliation
// reads entries through the generated client instead.
let defaultClient: LogEntriesClient | null = null;
function loggingClient(): LogEntriesClient {
  defaultClient ??= new v2.LoggingServiceV2Client() as LogEntriesClient;
  return defaultClient;
}

// When a build ends, the lines its sink delivery lost are still in Cloud
// Logging: list the build's entries and store the ones the deployment's log
// does not have yet. Ids come from the same mapping as ingestLogs, so a line
// already stored is recognised and skipped.
export async function reconcileBuildLogs(
  deploymentId: string,
  buildId: string,
  client: LogEntriesClient = loggingClient(),
): Promise<{ listed: number; added: number }> {
  const { projectId } = config();
  const filter = [
    `logName="projects/${projectId}/logs/cloudbuild"`,
    'resource.type="build"',
    `resource.labels.build_id="${buildId}"`,
  ].join(' AND ');

  const lines: LogLine[] = [];
  let listed = 0;
  try {
    const entries = client.listLogEntriesAsync(
      {
        resourceNames: [`projects/${projectId}`],
        filter,
        orderBy: 'timestamp asc',
        pageSize: 1000,
      },
      // The iterator follows page tokens itself.
      { autoPaginate: false },
    );
    for await (const apiEntry of entries) {
      listed += 1;
      const entry = sinkEntryOf(apiEntry);
      const target = targetOf(entry);
      if (target.kind !== 'build' || target.buildId !== buildId) continue;
      const line = lineFromEntry(entry, 'build', { step: target.step });
      if (line) lines.push(line);
    }
  } catch (error) {
    throw new Error(
      `Cloud Logging could not list the entries of build ${buildId} (deployment ${deploymentId}): ${(error as Error).message}`,
      { cause: error },
    );
  }

  const stored = await storedLineIds(deploymentId);
  const missing = lines.filter((line) => !stored.has(line.id));
  await logWriter().append(deploymentId, missing);

  log('INFO', 'build log reconciled', {
    deploymentId,
    buildId,
    listed,
    added: missing.length,
  });
  return { listed, added: missing.length };
}

async function storedLineIds(deploymentId: string): Promise<Set<string>> {
  const chunks = await db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .select('lines')
    .get();
  const ids = new Set<string>();
  for (const chunk of chunks.docs) {
    for (const line of (chunk.get('lines') as LogLine[] | undefined) ?? []) {
      ids.add(line.id);
    }
  }
  return ids;
}

// The entry as a Logging sink publishes it: the JSON form of the LogEntry
// message, with RFC 3339 times.
export function sinkEntryOf(entry: ApiLogEntry): LogEntry {
  const sink: LogEntry = {};
  if (entry.logName) sink.logName = entry.logName;
  if (entry.resource) {
    sink.resource = {
      ...(entry.resource.type ? { type: entry.resource.type } : {}),
      labels: { ...entry.resource.labels },
    };
  }
  if (entry.labels && Object.keys(entry.labels).length > 0) {
    sink.labels = { ...entry.labels };
  }
  if (typeof entry.textPayload === 'string')
    sink.textPayload = entry.textPayload;
  if (entry.jsonPayload) sink.jsonPayload = objectOf(entry.jsonPayload);
  if (entry.timestamp) sink.timestamp = rfc3339(entry.timestamp);
  if (entry.receiveTimestamp) {
    sink.receiveTimestamp = rfc3339(entry.receiveTimestamp);
  }
  if (entry.insertId) sink.insertId = entry.insertId;
  const severity = severityName(entry.severity);
  if (severity) sink.severity = severity;
  return sink;
}

// Like the proto3 JSON mapping: 0, 3, 6 or 9 fractional digits.
function rfc3339(timestamp: ApiTimestamp): string {
  const seconds = Number(timestamp.seconds ?? 0);
  const nanos = timestamp.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  const digits = String(nanos).padStart(9, '0');
  const fraction =
    nanos % 1_000_000 === 0
      ? digits.slice(0, 3)
      : nanos % 1000 === 0
        ? digits.slice(0, 6)
        : digits;
  return `${base}.${fraction}Z`;
}

const SEVERITIES: Record<number, string> = {
  0: 'DEFAULT',
  100: 'DEBUG',
  200: 'INFO',
  300: 'NOTICE',
  400: 'WARNING',
  500: 'ERROR',
  600: 'CRITICAL',
  700: 'ALERT',
  800: 'EMERGENCY',
};

function severityName(severity: ApiLogEntry['severity']): string | null {
  if (severity === null || severity === undefined) return null;
  return typeof severity === 'number'
    ? (SEVERITIES[severity] ?? null)
    : severity;
}

function objectOf(struct: ApiStruct): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(struct.fields ?? {}).map(([key, value]) => [
      key,
      valueOf(value),
    ]),
  );
}

function valueOf(value: ApiValue): unknown {
  if (value.structValue) return objectOf(value.structValue);
  if (value.listValue) return (value.listValue.values ?? []).map(valueOf);
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.numberValue === 'number') return value.numberValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  return null;
}
