import { createHash } from 'node:crypto';
import {
  COLLECTIONS,
  IN_PROGRESS_STATUSES,
  TOPICS,
  isFinal,
  newDeploymentDoc,
  newPackageDoc,
  pageUrlFor,
  type CreateDeploymentResponse,
  type DeploymentDoc,
  type PackageDoc,
} from '@sigyl/types';
import { builder, runner } from '../adapters.ts';
import { deploymentRef, transition } from '../deployments/state.ts';
import { db, nowIso } from '../firestore.ts';
import { newId, serviceNameFor, slugify } from '../ids.ts';
import { log, errorFields } from '../log.ts';
import { publishJson } from '../pubsub.ts';
import { secretStore } from '../secrets.ts';
import { RequestError } from './errors.ts';
import type { ValidRequest } from './validate.ts';

export const MAX_IN_PROGRESS_PER_USER = 5;

// Records the request and queues it; every later step runs from Pub/Sub.
export async function createDeployment(
  ownerId: string,
  request: ValidRequest,
  idempotencyKey: string | null,
): Promise<CreateDeploymentResponse> {
  const keyRef = idempotencyKey
    ? db()
        .collection(COLLECTIONS.idempotencyKeys)
        .doc(hash(`${ownerId}:${idempotencyKey}`))
    : null;
  if (keyRef) {
    const earlier = await keyRef.get();
    if (earlier.exists) return responseOf(earlier.data()!);
  }
  await checkInProgressLimit(ownerId);

  const deploymentId = newId();
  if (Object.keys(request.secrets).length > 0) {
    await secretStore().put(deploymentId, request.secrets);
  }

  const result = await db().runTransaction(async (tx) => {
    if (keyRef) {
      const earlier = await tx.get(keyRef);
      if (earlier.exists) return responseOf(earlier.data()!);
    }
    const now = nowIso();
    const packages = db().collection(COLLECTIONS.packages);
    let packageId: string;
    let pkg: PackageDoc;
    if (request.packageId) {
      const snapshot = await tx.get(packages.doc(request.packageId));
      const existing = snapshot.data() as PackageDoc | undefined;
      if (!existing || existing.ownerId !== ownerId) {
        throw new RequestError(
          404,
          'not_found',
          'No such package.',
          'packageId',
        );
      }
      packageId = request.packageId;
      pkg = {
        ...existing,
        source: request.source,
        run: request.run,
        currentDeploymentId: deploymentId,
        updatedAt: now,
      };
    } else {
      packageId = newId(16);
      const slug = await freeSlug(tx, ownerId, slugify(request.packageName));
      pkg = newPackageDoc(
        {
          ownerId,
          name: request.packageName,
          slug,
          description: request.description,
          source: request.source,
          run: request.run,
          serviceName: serviceNameFor(slug, ownerId),
          currentDeploymentId: deploymentId,
        },
        now,
      );
    }
    const deployment = newDeploymentDoc(
      {
        packageId,
        ownerId,
        source: request.source,
        run: request.run,
        env: request.env,
        secretNames: Object.keys(request.secrets).sort(),
      },
      now,
    );
    const response: CreateDeploymentResponse = {
      deploymentId,
      packageId,
      pageUrl: pageUrlFor(packageId),
    };
    tx.set(packages.doc(packageId), pkg);
    tx.create(deploymentRef(deploymentId), deployment);
    if (keyRef) tx.create(keyRef, { ...response, ownerId, createdAt: now });
    return response;
  });

  if (result.deploymentId === deploymentId) {
    await publishJson(TOPICS.deploymentRequests, { deploymentId });
    log('INFO', 'deployment queued', {
      deploymentId,
      packageId: result.packageId,
      ownerId,
    });
  }
  return result;
}

async function checkInProgressLimit(ownerId: string) {
  const running = await db()
    .collection(COLLECTIONS.deployments)
    .where('ownerId', '==', ownerId)
    .where('status', 'in', IN_PROGRESS_STATUSES)
    .count()
    .get();
  if (running.data().count >= MAX_IN_PROGRESS_PER_USER) {
    throw new RequestError(
      429,
      'resource_exhausted',
      `You have ${MAX_IN_PROGRESS_PER_USER} deployments in progress; wait for one to finish or cancel one.`,
    );
  }
}

// Slugs are unique per owner: a second `weather` becomes `weather-2`.
async function freeSlug(
  tx: FirebaseFirestore.Transaction,
  ownerId: string,
  base: string,
): Promise<string> {
  const taken = await tx.get(
    db()
      .collection(COLLECTIONS.packages)
      .where('ownerId', '==', ownerId)
      .where('slug', '>=', base)
      .where('slug', '<=', `${base}-\uf8ff`),
  );
  const slugs = new Set(taken.docs.map((doc) => doc.get('slug') as string));
  if (!slugs.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = base.slice(0, 24 - suffix.length) + suffix;
    if (!slugs.has(candidate)) return candidate;
  }
}

export async function cancelDeployment(
  deploymentId: string,
  deployment: DeploymentDoc,
  by: string,
) {
  if (isFinal(deployment.status)) {
    throw new RequestError(
      409,
      'failed_precondition',
      `This deployment has already finished (${deployment.status}).`,
    );
  }
  const moved = await transition(deploymentId, {
    to: 'cancelled',
    say: ['Deployment cancelled.'],
  });
  if (!moved) {
    throw new RequestError(
      409,
      'failed_precondition',
      'This deployment has already finished.',
    );
  }
  log('INFO', 'deployment cancelled', { deploymentId, by });
  await stopWork(deploymentId, moved);
  return moved;
}

// Stops whatever is running for a deployment that has ended: its build, or
// its new revision. Errors are logged: the deployment has ended either way.
export async function stopWork(
  deploymentId: string,
  deployment: DeploymentDoc,
) {
  try {
    if (deployment.buildId) await builder().cancel(deployment.buildId);
    const pkg = (
      await db()
        .collection(COLLECTIONS.packages)
        .doc(deployment.packageId)
        .get()
    ).data() as PackageDoc | undefined;
    if (pkg && deployment.revision) {
      await runner().discard(
        {
          deploymentId,
          packageId: deployment.packageId,
          serviceName: pkg.serviceName,
          deployment,
          secrets: {},
        },
        { revision: deployment.revision, url: deployment.url ?? '' },
      );
    }
  } catch (error) {
    log('WARNING', 'stopping a deployment failed', {
      deploymentId,
      ...errorFields(error),
    });
  }
}

function responseOf(
  data: FirebaseFirestore.DocumentData,
): CreateDeploymentResponse {
  return {
    deploymentId: data.deploymentId,
    packageId: data.packageId,
    pageUrl: data.pageUrl,
  };
}

function hash(text: string) {
  return createHash('sha256').update(text).digest('hex');
}
