import type { Request, Response } from '@google-cloud/functions-framework';
import {
  COLLECTIONS,
  IN_PROGRESS_STATUSES,
  type DeploymentDoc,
  type StepName,
} from '@sigyl/types';
import { stopWork } from '../api/deployments.ts';
import { config } from '../config.ts';
import { transition } from '../deployments/state.ts';
import { db } from '../firestore.ts';
import { log } from '../log.ts';

// Cloud Scheduler calls this every few minutes (locally, the stack does): a
// deployment without progress past its timeout is failed, and says why.
export async function sweepDeployments(_req: Request, res: Response) {
  const failed = await failStuckDeployments();
  res.json({ failed });
}

export async function failStuckDeployments(
  now = Date.now(),
): Promise<string[]> {
  const minutes = config().deploymentTimeoutMinutes;
  const cutoff = new Date(now - minutes * 60_000).toISOString();
  const stuck = await db()
    .collection(COLLECTIONS.deployments)
    .where('status', 'in', IN_PROGRESS_STATUSES)
    .where('updatedAt', '<', cutoff)
    .get();
  const failed: string[] = [];
  for (const doc of stuck.docs) {
    const moved = await failDeployment(
      doc.id,
      doc.data() as DeploymentDoc,
      `No progress for ${minutes} minutes, so Sigyl stopped waiting for this deployment.`,
    );
    if (moved) failed.push(doc.id);
  }
  if (failed.length) log('WARNING', 'failed stuck deployments', { failed });
  return failed;
}

// A local Sigyl that restarts has lost its builds and servers: deployments
// that were running then can never finish.
export async function failInterruptedDeployments(): Promise<string[]> {
  const running = await db()
    .collection(COLLECTIONS.deployments)
    .where('status', 'in', IN_PROGRESS_STATUSES)
    .get();
  const failed: string[] = [];
  for (const doc of running.docs) {
    const moved = await failDeployment(
      doc.id,
      doc.data() as DeploymentDoc,
      'Sigyl was restarted while this deployment was running. Deploy again.',
    );
    if (moved) failed.push(doc.id);
  }
  return failed;
}

async function failDeployment(
  id: string,
  deployment: DeploymentDoc,
  message: string,
) {
  const step: StepName =
    deployment.steps.find((s) => s.status === 'running')?.name ??
    deployment.steps.find((s) => s.status === 'pending')?.name ??
    'source';
  const moved = await transition(id, {
    to: 'failed',
    fields: { error: { step, message, tail: [] } },
    say: [message],
    sayStep: step,
  });
  if (moved) await stopWork(id, moved);
  return moved;
}
