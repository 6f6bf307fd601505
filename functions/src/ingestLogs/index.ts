import type { CloudEvent } from '@google-cloud/functions-framework';
import type { LogLine } from '@sigyl/types';
import { errorFields, log } from '../log.ts';
import {
  entriesFromMessage,
  entryAgeMs,
  lineFromEntry,
  targetOf,
  UNMAPPED_GRACE_MS,
  type LogEntry,
} from '../logs/entries.ts';
import { deploymentOfBuild, isRevisionOf } from '../logs/owners.ts';
import { logWriter } from '../logs/writer.ts';

export type PubsubMessageData = {
  message?: {
    data?: string;
    attributes?: Record<string, string>;
    messageId?: string;
  };
};

type Placement =
  | { deploymentId: string; line: LogLine }
  | { dropped: string }
  | { waiting: string };

// Stores the log lines of one message on `deployment-logs`. Returns (acks)
// when the lines are committed or can never be stored; throws (Pub/Sub
// delivers again) when Firestore failed or a build's id is not recorded yet.
export async function ingestLogs(
  event: CloudEvent<PubsubMessageData>,
): Promise<void> {
  const messageId = event.data?.message?.messageId ?? event.id;
  const entries = entriesFromMessage(event.data?.message?.data);
  if ('invalid' in entries) {
    log('WARNING', `log message dropped: ${entries.invalid}`, { messageId });
    return;
  }

  const linesByDeployment = new Map<string, LogLine[]>();
  const dropped = new Map<string, number>();
  const waiting: string[] = [];
  const owners = new Map<string, Promise<string | null>>();
  for (const entry of entries) {
    const placement = await place(entry, owners);
    if ('line' in placement) {
      const lines = linesByDeployment.get(placement.deploymentId) ?? [];
      lines.push(placement.line);
      linesByDeployment.set(placement.deploymentId, lines);
    } else if ('dropped' in placement) {
      dropped.set(placement.dropped, (dropped.get(placement.dropped) ?? 0) + 1);
    } else {
      waiting.push(placement.waiting);
    }
  }
  for (const [reason, count] of dropped) {
    log('INFO', `log entries dropped: ${reason}`, { messageId, count });
  }

  // Deployments are written side by side; one failing does not hold back
  // the others, though the whole message comes again.
  const writes = [...linesByDeployment].map(async ([deploymentId, lines]) => {
    try {
      await logWriter().append(deploymentId, lines);
    } catch (error) {
      log('ERROR', 'log lines not stored; the message will come again', {
        messageId,
        deploymentId,
        lines: lines.length,
        ...errorFields(error),
      });
      throw error;
    }
  });
  const failed = (await Promise.allSettled(writes)).find(
    (result) => result.status === 'rejected',
  );
  if (failed) throw failed.reason;

  if (waiting.length > 0) {
    log('INFO', 'log entries wait for their build id to be recorded', {
      messageId,
      buildIds: [...new Set(waiting)],
      count: waiting.length,
    });
    throw new Error(`${waiting.length} log entries wait for a build id`);
  }
}

async function place(
  entry: LogEntry,
  owners: Map<string, Promise<string | null>>,
): Promise<Placement> {
  const target = targetOf(entry);
  if (target.kind === 'ignored') return { dropped: target.reason };

  // One lookup per build or revision per message, however many entries.
  const key =
    target.kind === 'build'
      ? `build:${target.buildId}`
      : `run:${target.serviceName}:${target.deploymentId}`;
  let owner = owners.get(key);
  if (!owner) {
    owner =
      target.kind === 'build'
        ? deploymentOfBuild(target.buildId)
        : isRevisionOf(target.deploymentId, target.serviceName).then((ours) =>
            ours ? target.deploymentId : null,
          );
    owners.set(key, owner);
  }
  const deploymentId = await owner;

  if (!deploymentId) {
    if (target.kind === 'runtime') {
      return { dropped: `revision of ${target.serviceName} is not ours` };
    }
    // The build may have started a moment before its id was recorded.
    return entryAgeMs(entry) > UNMAPPED_GRACE_MS
      ? { dropped: `build ${target.buildId} is not one of ours` }
      : { waiting: target.buildId };
  }

  const line =
    target.kind === 'build'
      ? lineFromEntry(entry, 'build', { step: target.step })
      : lineFromEntry(entry, 'runtime', { stream: target.stream });
  if (!line) return { dropped: 'entry without text' };
  return { deploymentId, line };
}
