import { randomBytes } from 'node:crypto';
import type { LogLine, StepName } from '@sigyl/types';
import { nowTs } from './timestamps.ts';
import { logWriter } from './writer.ts';

// The pipeline's own lines ("Build started"), written to the deployment's
// log through the same writer as build and server output. Resolves once they
// are committed.
export async function appendSystemLines(
  deploymentId: string,
  texts: string[],
  step?: StepName,
): Promise<void> {
  const lines = texts.map((text): LogLine => {
    const line: LogLine = {
      id: `sys-${randomBytes(9).toString('base64url')}`,
      ts: nowTs(),
      text,
      source: 'system',
    };
    if (step) line.step = step;
    return line;
  });
  await logWriter().append(deploymentId, lines);
}
