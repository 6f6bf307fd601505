import {
  COLLECTIONS,
  mergeLines,
  type LogChunkDoc,
  type LogLine,
} from '@sigyl/types';
import { deploymentRef } from './state.ts';

// The last lines that match, from the newest chunks of a deployment's log:
// what a failure shows beside its reason.
export async function logTail(
  deploymentId: string,
  match: (line: LogLine) => boolean,
  count = 20,
): Promise<string[]> {
  const chunks = await deploymentRef(deploymentId)
    .collection(COLLECTIONS.logs)
    .orderBy('writtenAt', 'desc')
    .limit(100)
    .get();
  const lines = mergeLines(
    chunks.docs.map((doc) => (doc.data() as LogChunkDoc).lines),
  );
  return lines
    .filter(match)
    .slice(-count)
    .map((line) => line.text);
}

// Lines can trail the event that ends a step (they travel on another
// topic), so read until two reads agree, for a few seconds at most.
export async function logTailSettled(
  deploymentId: string,
  match: (line: LogLine) => boolean,
  count = 20,
): Promise<string[]> {
  let tail = await logTail(deploymentId, match, count);
  for (let attempt = 0; attempt < 8; attempt++) {
    await new Promise((r) => setTimeout(r, 400));
    const next = await logTail(deploymentId, match, count);
    if (next.length > 0 && next.join('\n') === tail.join('\n')) return next;
    tail = next;
  }
  return tail;
}
