import { v2 } from '@google-cloud/logging';
import type { LogEntry } from '../../src/logs/entries.ts';
import {
  clientOptionsFor,
  loadProtos,
  serviceOf,
  startGrpcServer,
  timestampOf,
  type RecordedRequest,
} from './grpc.ts';

// A local Cloud Logging (v2, gRPC) that records every request and lists the
// entries a test adds, as the service stores them. It understands the
// filters this project sends: `field="value"` terms joined by AND.

const PACKAGE = '@google-cloud/logging-api';

export type CloudLoggingStandin = {
  port: number;
  requests: RecordedRequest[];
  // Entries as a Logging sink would publish them (JSON, RFC 3339 times).
  add(...entries: LogEntry[]): void;
  client(): InstanceType<typeof v2.LoggingServiceV2Client>;
  close(): Promise<void>;
};

// The service may answer with fewer entries than asked for per page;
// `pageLimit` makes it do so.
export async function startCloudLoggingStandin(
  options: { pageLimit?: number } = {},
): Promise<CloudLoggingStandin> {
  const loaded = loadProtos(PACKAGE, ['google/logging/v2/logging.proto']);
  const requests: RecordedRequest[] = [];
  const entries: LogEntry[] = [];

  const handlers = {
    ListLogEntries: (request: {
      filter?: string;
      orderBy?: string;
      pageSize?: number;
      pageToken?: string;
    }) => {
      const terms = [
        ...(request.filter ?? '').matchAll(/([\w.]+)\s*=\s*"([^"]*)"/g),
      ];
      const matching = entries
        .filter((entry) =>
          terms.every(([, field, value]) => fieldOf(entry, field!) === value),
        )
        .sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? ''));
      if (request.orderBy?.includes('desc')) matching.reverse();
      const start = Number(request.pageToken || 0);
      const end =
        start + Math.min(request.pageSize || 1000, options.pageLimit ?? 1000);
      return {
        entries: matching.slice(start, end).map(toProto),
        nextPageToken: end < matching.length ? String(end) : '',
      };
    },
  };

  const server = await startGrpcServer(
    [
      {
        definition: serviceOf(loaded, 'google.logging.v2.LoggingServiceV2'),
        handlers,
      },
    ],
    requests,
  );
  return {
    port: server.port,
    requests,
    add: (...added) => entries.push(...added),
    client: () =>
      new v2.LoggingServiceV2Client(clientOptionsFor(PACKAGE, server.port)),
    close: server.close,
  };
}

function fieldOf(entry: LogEntry, path: string): unknown {
  let value: unknown = entry;
  for (const part of path.split('.')) {
    value = (value as Record<string, unknown> | undefined)?.[part];
  }
  return value;
}

function toProto(entry: LogEntry) {
  const { timestamp, receiveTimestamp, jsonPayload, ...rest } = entry;
  return {
    ...rest,
    ...(timestamp ? { timestamp: timestampOf(timestamp) } : {}),
    ...(receiveTimestamp
      ? { receiveTimestamp: timestampOf(receiveTimestamp) }
      : {}),
    ...(jsonPayload ? { jsonPayload: toStruct(jsonPayload) } : {}),
  };
}

function toStruct(object: Record<string, unknown>): {
  fields: Record<string, unknown>;
} {
  return {
    fields: Object.fromEntries(
      Object.entries(object).map(([key, value]) => [key, toValue(value)]),
    ),
  };
}

function toValue(value: unknown): unknown {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (Array.isArray(value))
    return { listValue: { values: value.map(toValue) } };
  return { structValue: toStruct(value as Record<string, unknown>) };
}
