import {
  COLLECTIONS,
  type DeploymentDoc,
  type PackageDoc,
  type StepName,
} from '@sigyl/types';
import { runner } from '../adapters.ts';
import {
  deploymentIdFromTags,
  type BuildResource,
  type BuildStatus,
} from '../builders/build.ts';
import { config } from '../config.ts';
import { getDeployment, transition } from '../deployments/state.ts';
import { logTailSettled } from '../deployments/tail.ts';
import { messageJson, type PubSubEvent } from '../events.ts';
import { db } from '../firestore.ts';
import { errorFields, log } from '../log.ts';
import { reconcileBuildLogs } from '../reconcile/buildLogs.ts';
import type { Revision, RevisionInput } from '../seams.ts';
import { secretStore } from '../secrets.ts';
import { verifyMcpServer } from '../verify/index.ts';

const VERIFY_TIMEOUT_MS = 60_000;

// `cloud-builds` → the deployment's state machine. On success it runs the
// server (Runner), checks it with an MCP handshake, then moves traffic.
export async function onBuildEvent(event: PubSubEvent) {
  const build = messageJson(event) as BuildResource | null;
  if (
    !build ||
    typeof build.id !== 'string' ||
    typeof build.status !== 'string'
  ) {
    log('WARNING', 'ignoring a build event that is not a Build', {
      messageId: event.data?.message?.messageId,
    });
    return;
  }
  const deploymentId =
    deploymentIdFromTags(build.tags) ?? (await deploymentIdForBuild(build.id));
  if (!deploymentId) {
    log('DEBUG', 'build is not a Sigyl deployment', { buildId: build.id });
    return;
  }
  const deployment = await getDeployment(deploymentId);
  if (!deployment) {
    log('WARNING', 'build event for a missing deployment', {
      deploymentId,
      buildId: build.id,
    });
    return;
  }

  switch (build.status) {
    case 'WORKING':
      await transition(deploymentId, {
        to: 'building',
        fields: { buildId: build.id },
        steps: { source: { status: 'running', startedAt: build.startTime } },
        say: ['Build started.'],
      });
      return;
    case 'SUCCESS': {
      const moved = await transition(deploymentId, {
        to: 'deploying',
        fields: { buildId: build.id },
        steps: {
          ...stepTimes(build),
          deploy: { status: 'running' },
        },
        say: [
          `Build finished in ${seconds(build.startTime, build.finishTime)}.`,
        ],
      });
      if (moved) await deployAndVerify(deploymentId, moved);
      await reconcileLogs(deploymentId, build.id);
      return;
    }
    case 'FAILURE':
    case 'INTERNAL_ERROR':
    case 'TIMEOUT':
    case 'EXPIRED': {
      await reconcileLogs(deploymentId, build.id);
      const step = failedStep(build);
      const buildStep = build.steps.find(
        (s) => s.status === 'FAILURE' || s.status === 'TIMEOUT',
      );
      const tail = await logTailSettled(
        deploymentId,
        (line) =>
          line.source === 'build' &&
          (buildStep?.id ? line.step === buildStep.id : true),
      );
      await transition(deploymentId, {
        to: 'failed',
        fields: {
          buildId: build.id,
          error: { step, message: buildFailureMessage(build), tail },
        },
        steps: { ...stepTimes(build), [step]: { status: 'failed' } },
        say: [`Build ${build.status.toLowerCase().replace('_', ' ')}.`],
        sayStep: step,
      });
      return;
    }
    case 'CANCELLED':
      await transition(deploymentId, {
        to: 'cancelled',
        fields: { buildId: build.id },
        say: ['Build cancelled.'],
      });
      await reconcileLogs(deploymentId, build.id);
      return;
    default:
      // QUEUED and PENDING: the deployment is already `queued`.
      return;
  }
}

async function deployAndVerify(
  deploymentId: string,
  deployment: DeploymentDoc,
) {
  const pkg = (
    await db().collection(COLLECTIONS.packages).doc(deployment.packageId).get()
  ).data() as PackageDoc;
  const input: RevisionInput = {
    deploymentId,
    packageId: deployment.packageId,
    serviceName: pkg.serviceName,
    deployment,
    secrets: await secretStore().get(deploymentId),
  };
  const runtimeTail = () =>
    logTailSettled(deploymentId, (line) => line.source === 'runtime');

  let revision: Revision;
  try {
    revision = await runner().deploy(input);
  } catch (error) {
    log('INFO', 'revision failed to start', {
      deploymentId,
      ...errorFields(error),
    });
    await fail(
      deploymentId,
      'deploy',
      (error as Error).message,
      await runtimeTail(),
    );
    return;
  }

  const verifying = await transition(deploymentId, {
    to: 'verifying',
    fields: { revision: revision.revision },
    steps: { deploy: { status: 'done' }, verify: { status: 'running' } },
    say: [
      `Server started (revision ${revision.revision}); checking that it speaks MCP.`,
    ],
    sayStep: 'verify',
  });
  if (!verifying) {
    await runner().discard(input, revision);
    return;
  }

  let verified: Awaited<ReturnType<typeof verifyMcpServer>>;
  try {
    verified = await verifyMcpServer(revision.url, {
      timeoutMs: VERIFY_TIMEOUT_MS,
    });
  } catch (error) {
    await runner().discard(input, revision);
    await fail(
      deploymentId,
      'verify',
      (error as Error).message,
      await runtimeTail(),
    );
    return;
  }

  if ((await getDeployment(deploymentId))?.status !== 'verifying') {
    await runner().discard(input, revision);
    return;
  }
  const { url } = await runner().promote(input, revision);
  const live = await transition(deploymentId, {
    to: 'live',
    fields: { url },
    steps: { verify: { status: 'done' } },
    say: [
      `Verified: ${verified.tools.length} tools, MCP ${verified.protocolVersion}.`,
      `Live at ${url}/mcp`,
    ],
    sayStep: 'verify',
  });
  if (live) await recordLivePackage(deploymentId, live, url, verified);
}

// The package points at the newest deployment that reached `live`, never at
// an older one that finished later.
async function recordLivePackage(
  deploymentId: string,
  deployment: DeploymentDoc,
  url: string,
  verified: {
    protocolVersion: string;
    tools: { name: string; description: string }[];
  },
) {
  const packages = db().collection(COLLECTIONS.packages);
  await db().runTransaction(async (tx) => {
    const ref = packages.doc(deployment.packageId);
    const pkg = (await tx.get(ref)).data() as PackageDoc;
    if (pkg.liveDeploymentId && pkg.liveDeploymentId !== deploymentId) {
      const current = (
        await tx.get(
          db().collection(COLLECTIONS.deployments).doc(pkg.liveDeploymentId),
        )
      ).data() as DeploymentDoc | undefined;
      if (current && current.createdAt > deployment.createdAt) return;
    }
    tx.update(ref, {
      liveDeploymentId: deploymentId,
      url,
      protocolVersion: verified.protocolVersion,
      tools: verified.tools.map((t) => ({
        name: t.name,
        description: t.description,
      })),
      updatedAt: new Date().toISOString(),
    });
  });
}

async function fail(
  deploymentId: string,
  step: StepName,
  message: string,
  tail: string[],
) {
  await transition(deploymentId, {
    to: 'failed',
    fields: { error: { step, message, tail } },
    steps: { [step]: { status: 'failed' } },
    say: [
      `${step === 'deploy' ? 'Deploy' : 'Verification'} failed: ${message}`,
    ],
    sayStep: step,
  });
}

// In Google Cloud the Logging sink can lose a line; once a build has ended,
// Cloud Logging has them all. Locally every line travels on Pub/Sub.
async function reconcileLogs(deploymentId: string, buildId: string) {
  if (config().mode !== 'cloud') return;
  try {
    const { added } = await reconcileBuildLogs(deploymentId, buildId);
    if (added)
      log('INFO', 'added build lines the sink lost', {
        deploymentId,
        buildId,
        added,
      });
  } catch (error) {
    log('WARNING', 'reconciling build logs failed', {
      deploymentId,
      buildId,
      ...errorFields(error),
    });
  }
}

async function deploymentIdForBuild(buildId: string): Promise<string | null> {
  const found = await db()
    .collection(COLLECTIONS.deployments)
    .where('buildId', '==', buildId)
    .limit(1)
    .get();
  return found.docs[0]?.id ?? null;
}

function stepTimes(build: BuildResource) {
  const fetch = build.steps.filter((s) => s.id === 'fetch-source');
  const rest = build.steps.filter((s) => s.id !== 'fetch-source');
  const span = (steps: BuildResource['steps']) => ({
    startedAt: steps.find((s) => s.timing?.startTime)?.timing?.startTime,
    finishedAt: steps.findLast((s) => s.timing?.endTime)?.timing?.endTime,
  });
  const status = (steps: BuildResource['steps']) =>
    steps.length > 0 && steps.every((s) => s.status === 'SUCCESS')
      ? 'done'
      : undefined;
  const result: Partial<
    Record<
      StepName,
      { status?: 'done'; startedAt?: string; finishedAt?: string }
    >
  > = {};
  for (const [name, steps] of [
    ['source', fetch],
    ['build', rest],
  ] as const) {
    const times = span(steps);
    const done = status(steps);
    result[name] = {
      ...(done ? { status: done } : {}),
      ...(times.startedAt ? { startedAt: times.startedAt } : {}),
      ...(done && times.finishedAt ? { finishedAt: times.finishedAt } : {}),
    };
  }
  return result;
}

function failedStep(build: BuildResource): StepName {
  const failed = build.steps.find(
    (s) => s.status === 'FAILURE' || s.status === 'TIMEOUT',
  );
  return failed?.id === 'fetch-source' ? 'source' : 'build';
}

const FAILURE_MESSAGES: Partial<Record<BuildStatus, string>> = {
  TIMEOUT: 'The build took longer than its time limit and was stopped.',
  EXPIRED: 'The build waited in the queue too long and expired.',
  INTERNAL_ERROR: 'The build service had an internal error.',
};

function buildFailureMessage(build: BuildResource): string {
  const detail = build.failureInfo?.detail ?? build.statusDetail;
  const general = FAILURE_MESSAGES[build.status];
  if (general) return detail ? `${general} ${detail}` : general;
  return detail ?? 'The build failed.';
}

function seconds(start?: string, end?: string): string {
  if (!start || !end) return 'an unknown time';
  const ms = Date.parse(end) - Date.parse(start);
  return `${(ms / 1000).toFixed(1)} s`;
}
