import {
  COLLECTIONS,
  isFinal,
  type DeploymentDoc,
  type DeploymentStatus,
  type Step,
  type StepName,
} from '@sigyl/types';
import { db, nowIso } from '../firestore.ts';
import { appendSystemLines } from '../logs/system.ts';
import { log } from '../log.ts';

// The one place a deployment's status changes. Statuses only move forward:
// a late, repeated or reordered event asks for a move that is refused.
const RANK: Record<DeploymentStatus, number> = {
  queued: 0,
  building: 1,
  deploying: 2,
  verifying: 3,
  live: 4,
  failed: 4,
  cancelled: 4,
};

export function canMove(from: DeploymentStatus, to: DeploymentStatus) {
  return !isFinal(from) && RANK[to] > RANK[from];
}

export type Transition = {
  to: DeploymentStatus;
  steps?: Partial<Record<StepName, Partial<Step>>>;
  fields?: Partial<DeploymentDoc>;
  // Plain lines for the deployment's log, written once the move is made.
  say?: string[];
  sayStep?: StepName;
};

export function deploymentRef(id: string) {
  return db().collection(COLLECTIONS.deployments).doc(id);
}

// Returns the deployment after the move, or null when the move was refused.
export async function transition(
  deploymentId: string,
  change: Transition,
): Promise<DeploymentDoc | null> {
  const ref = deploymentRef(deploymentId);
  const moved = await db().runTransaction(async (tx) => {
    const snapshot = await tx.get(ref);
    const current = snapshot.data() as DeploymentDoc | undefined;
    if (!current || !canMove(current.status, change.to)) return null;

    const now = nowIso();
    const next: DeploymentDoc = {
      ...current,
      ...change.fields,
      status: change.to,
      steps: applySteps(current.steps, change, now),
      updatedAt: now,
      finishedAt: isFinal(change.to) ? now : current.finishedAt,
    };
    tx.update(ref, {
      ...change.fields,
      status: next.status,
      steps: next.steps,
      updatedAt: next.updatedAt,
      finishedAt: next.finishedAt,
    });
    return next;
  });

  if (!moved) {
    log('DEBUG', 'transition refused', { deploymentId, to: change.to });
    return null;
  }
  log('INFO', `deployment ${change.to}`, { deploymentId, status: change.to });
  if (change.say?.length) {
    await appendSystemLines(deploymentId, change.say, change.sayStep);
  }
  return moved;
}

function applySteps(steps: Step[], change: Transition, now: string): Step[] {
  const result = steps.map((step) => {
    const update = change.steps?.[step.name];
    if (!update) return step;
    const next: Step = { ...step, ...update };
    if (update.status === 'running' && !step.startedAt) {
      next.startedAt = update.startedAt ?? now;
    }
    if (
      (update.status === 'done' || update.status === 'failed') &&
      !update.finishedAt
    ) {
      next.startedAt ??= now;
      next.finishedAt = now;
    }
    return next;
  });
  if (change.to === 'failed' || change.to === 'cancelled') {
    // Whatever was running stops here; what never started is skipped.
    return result.map((step) => {
      if (step.status === 'running') {
        return {
          ...step,
          status: change.to === 'failed' ? 'failed' : 'skipped',
          finishedAt: now,
        };
      }
      if (step.status === 'pending') return { ...step, status: 'skipped' };
      return step;
    });
  }
  return result;
}

export async function getDeployment(id: string): Promise<DeploymentDoc | null> {
  const snapshot = await deploymentRef(id).get();
  return (snapshot.data() as DeploymentDoc | undefined) ?? null;
}
