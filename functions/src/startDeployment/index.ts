import { COLLECTIONS, type DeploymentDoc, type PackageDoc } from '@sigyl/types';
import { builder } from '../adapters.ts';
import { config } from '../config.ts';
import { deploymentRef, transition } from '../deployments/state.ts';
import { messageJson, type PubSubEvent } from '../events.ts';
import { db, nowIso } from '../firestore.ts';
import { ID_PATTERN } from '../ids.ts';
import { errorFields, log } from '../log.ts';
import type { BuildPlan } from '../seams.ts';

// `deployment-requests` → a build plan handed to the Builder. The build's
// progress then arrives on `cloud-builds` (see onBuildEvent).
export async function startDeployment(event: PubSubEvent) {
  const message = messageJson(event) as { deploymentId?: unknown } | null;
  const deploymentId = message?.deploymentId;
  if (typeof deploymentId !== 'string' || !ID_PATTERN.test(deploymentId)) {
    log('WARNING', 'ignoring a deployment request without a valid id', {
      messageId: event.data?.message?.messageId,
    });
    return;
  }

  // Claim the request, so a redelivered message never starts a second build.
  const claimed = await db().runTransaction(async (tx) => {
    const snapshot = await tx.get(deploymentRef(deploymentId));
    const deployment = snapshot.data() as DeploymentDoc | undefined;
    if (!deployment || deployment.status !== 'queued') return null;
    if (snapshot.get('buildRequestedAt')) return null;
    tx.update(snapshot.ref, { buildRequestedAt: nowIso() });
    return deployment;
  });
  if (!claimed) {
    log('INFO', 'deployment request already handled', { deploymentId });
    return;
  }

  const pkg = (
    await db().collection(COLLECTIONS.packages).doc(claimed.packageId).get()
  ).data() as PackageDoc;
  const plan = buildPlan(deploymentId, claimed, pkg);
  let buildId: string;
  try {
    ({ buildId } = await builder().start(plan));
  } catch (error) {
    log('ERROR', 'could not start a build', {
      deploymentId,
      ...errorFields(error),
    });
    await transition(deploymentId, {
      to: 'failed',
      fields: {
        error: {
          step: 'source',
          message: `The build could not start: ${(error as Error).message}`,
          tail: [],
        },
      },
      say: ['The build could not start.'],
    });
    return;
  }

  const recorded = await db().runTransaction(async (tx) => {
    const snapshot = await tx.get(deploymentRef(deploymentId));
    if (snapshot.get('status') !== 'queued') return false;
    tx.update(snapshot.ref, { buildId, updatedAt: nowIso() });
    return true;
  });
  if (!recorded) {
    // Cancelled while the build was being created.
    await builder().cancel(buildId);
    return;
  }
  log('INFO', 'build started', { deploymentId, buildId });
}

export function buildPlan(
  deploymentId: string,
  deployment: DeploymentDoc,
  pkg: PackageDoc,
): BuildPlan {
  const source = deployment.source;
  const steps: BuildPlan['steps'] =
    source.type === 'npm'
      ? [
          { id: 'fetch-source', title: `Fetch ${source.spec} from npm` },
          { id: 'install', title: 'Install dependencies' },
          { id: 'bridge', title: 'Prepare the server' },
        ]
      : [
          { id: 'fetch-source', title: 'Clone the repository' },
          { id: 'install', title: 'Install dependencies' },
          { id: 'build', title: 'Build' },
          { id: 'bridge', title: 'Prepare the server' },
        ];
  return {
    deploymentId,
    packageId: deployment.packageId,
    serviceName: pkg.serviceName,
    source,
    run: deployment.run,
    steps,
    buildSecretNames: [],
    timeoutSeconds: config().deploymentTimeoutMinutes * 60,
  };
}
