import {
  COLLECTIONS,
  TOPICS,
  newDeploymentDoc,
  type DeploymentDoc,
  type DeploymentStatus,
} from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestProject, uniqueId } from '../../test/env.ts';
import { startPipeline } from '../../test/pipeline.ts';
import {
  buildTags,
  type BuildResource,
  type BuildStatus,
} from '../builders/build.ts';
import { db } from '../firestore.ts';
import type { FunctionsHost } from '../local/host.ts';
import { publishJson } from '../pubsub.ts';
import { failStuckDeployments } from '../sweepDeployments/index.ts';
import { canMove, transition } from './state.ts';

useTestProject('state');
let host: FunctionsHost;
beforeAll(async () => {
  host = await startPipeline();
}, 60_000);
afterAll(async () => host?.stop());

async function newDeployment(status: DeploymentStatus = 'queued') {
  const id = uniqueId('d');
  const deployment = newDeploymentDoc({
    packageId: uniqueId('p'),
    ownerId: 'owner',
    source: { type: 'npm', spec: 'left-pad' },
    status,
  });
  await db().collection(COLLECTIONS.deployments).doc(id).set(deployment);
  return id;
}

async function statusOf(id: string) {
  const doc = await db().collection(COLLECTIONS.deployments).doc(id).get();
  return doc.get('status') as DeploymentStatus;
}

// Publishes a Build message on `cloud-builds`, as Cloud Build does.
async function publishBuild(
  deploymentId: string,
  status: BuildStatus,
  buildId: string,
) {
  const build: BuildResource = {
    id: buildId,
    status,
    tags: buildTags(deploymentId),
    steps: [
      {
        id: 'fetch-source',
        status: status === 'FAILURE' ? 'FAILURE' : 'SUCCESS',
      },
    ],
    failureInfo: status === 'FAILURE' ? { detail: 'fetch failed' } : undefined,
  };
  await publishJson(TOPICS.cloudBuilds, build, { buildId, status });
}

async function settle(id: string, expected: DeploymentStatus) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await statusOf(id)) === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${id} never reached ${expected}; it is ${await statusOf(id)}`,
  );
}

describe('the deployment state machine', () => {
  it('only moves forward, and never out of a final status', () => {
    expect(canMove('queued', 'building')).toBe(true);
    expect(canMove('queued', 'deploying')).toBe(true);
    expect(canMove('building', 'failed')).toBe(true);
    expect(canMove('building', 'queued')).toBe(false);
    expect(canMove('building', 'building')).toBe(false);
    expect(canMove('verifying', 'deploying')).toBe(false);
    expect(canMove('live', 'failed')).toBe(false);
    expect(canMove('failed', 'live')).toBe(false);
    expect(canMove('cancelled', 'building')).toBe(false);
  });

  it('refuses a repeated transition and keeps the first', async () => {
    const id = await newDeployment();
    expect(await transition(id, { to: 'building' })).not.toBeNull();
    expect(await transition(id, { to: 'building' })).toBeNull();
    expect(await transition(id, { to: 'queued' })).toBeNull();
    expect(await statusOf(id)).toBe('building');
  });

  it('marks running steps failed and pending ones skipped on failure', async () => {
    const id = await newDeployment();
    await transition(id, {
      to: 'building',
      steps: { source: { status: 'running' } },
    });
    const failed = await transition(id, { to: 'failed' });
    expect(failed?.steps.map((s) => s.status)).toEqual([
      'failed',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(failed?.finishedAt).toBeTruthy();
  });

  it('ignores a WORKING event that arrives after the failure', async () => {
    const id = await newDeployment();
    const buildId = uniqueId('b');
    await publishBuild(id, 'FAILURE', buildId);
    await settle(id, 'failed');
    await publishBuild(id, 'WORKING', buildId);
    await publishBuild(id, 'FAILURE', buildId);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await statusOf(id)).toBe('failed');
  }, 30_000);

  it('a late CANCELLED does not undo a finished deployment', async () => {
    const id = await newDeployment('live');
    await publishBuild(id, 'CANCELLED', uniqueId('b'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await statusOf(id)).toBe('live');
  }, 30_000);

  it('reaches building from WORKING even when QUEUED comes after it', async () => {
    const id = await newDeployment();
    const buildId = uniqueId('b');
    await publishBuild(id, 'WORKING', buildId);
    await settle(id, 'building');
    await publishBuild(id, 'QUEUED', buildId);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await statusOf(id)).toBe('building');
    const doc = await db().collection(COLLECTIONS.deployments).doc(id).get();
    expect(doc.get('buildId')).toBe(buildId);
  }, 30_000);

  it('the sweep fails a deployment without progress past its timeout, and says why', async () => {
    const stuck = await newDeployment('building');
    const fresh = await newDeployment('building');
    const longAgo = new Date(Date.now() - 2 * 60 * 60_000).toISOString();
    await db()
      .collection(COLLECTIONS.deployments)
      .doc(stuck)
      .update({
        updatedAt: longAgo,
        steps: newDeploymentDoc({
          packageId: 'p',
          ownerId: 'o',
          source: { type: 'npm', spec: 'x' },
        }).steps.map((step) =>
          step.name === 'source'
            ? { ...step, status: 'done' }
            : step.name === 'build'
              ? { ...step, status: 'running' }
              : step,
        ),
      });
    const failed = await failStuckDeployments();
    expect(failed).toContain(stuck);
    expect(failed).not.toContain(fresh);
    const doc = (
      await db().collection(COLLECTIONS.deployments).doc(stuck).get()
    ).data() as DeploymentDoc;
    expect(doc.status).toBe('failed');
    expect(doc.error?.step).toBe('build');
    expect(doc.error?.message).toMatch(/No progress for \d+ minutes/);
    expect(await statusOf(fresh)).toBe('building');
  });
});
