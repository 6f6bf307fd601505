import type { Server } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { TOPICS } from '@sigyl/types';
import { builder, runner } from '../adapters.ts';
import { LocalBuilder } from '../builders/local.ts';
import { config } from '../config.ts';
import { FUNCTIONS } from '../index.ts';
import { errorFields, log } from '../log.ts';
import { pubsub } from '../pubsub.ts';
import { LocalRunner } from '../runners/local.ts';
import { restoreLiveServers } from './restore.ts';
import {
  failInterruptedDeployments,
  failStuckDeployments,
} from '../sweepDeployments/index.ts';

// Each event function and the topic it listens to; the push subscription is
// what Eventarc sets up in Google Cloud.
export const TRIGGERS = [
  {
    fn: FUNCTIONS.startDeployment,
    topic: TOPICS.deploymentRequests,
    ackSeconds: 60,
  },
  // Deploying and verifying happen inside one delivery.
  { fn: FUNCTIONS.onBuildEvent, topic: TOPICS.cloudBuilds, ackSeconds: 600 },
  { fn: FUNCTIONS.ingestLogs, topic: TOPICS.deploymentLogs, ackSeconds: 60 },
] as const;

export type HostPorts = Record<
  'api' | 'startDeployment' | 'onBuildEvent' | 'ingestLogs',
  number
>;

export type FunctionsHost = {
  urls: Record<keyof HostPorts, string>;
  stop(): Promise<void>;
};

// Runs the functions the way functions-framework serves them in Google
// Cloud, one server per function, with the emulator pushing to them.
export async function startFunctionsHost(
  ports: HostPorts,
): Promise<FunctionsHost> {
  const servers: Server[] = [];
  const urls = {} as Record<keyof HostPorts, string>;
  for (const name of Object.keys(ports) as (keyof HostPorts)[]) {
    const server = getTestServer(FUNCTIONS[name]);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[name], '127.0.0.1', () => resolve());
    });
    servers.push(server);
    urls[name] = `http://127.0.0.1:${ports[name]}`;
  }
  await createPushSubscriptions(urls);

  const interrupted = await failInterruptedDeployments();
  if (interrupted.length) {
    log('WARNING', 'marked deployments cut off by a restart as failed', {
      deployments: interrupted,
    });
  }
  const restored = restoreLiveServers().catch((error: unknown) =>
    log('ERROR', 'restoring live servers failed', errorFields(error)),
  );
  const sweep = setInterval(() => {
    failStuckDeployments().catch((error: unknown) =>
      log('ERROR', 'sweep failed', errorFields(error)),
    );
  }, 60_000);

  return {
    urls,
    async stop() {
      clearInterval(sweep);
      await restored;
      const localBuilder = builder();
      const localRunner = runner();
      if (localBuilder instanceof LocalBuilder) await localBuilder.stopAll();
      if (localRunner instanceof LocalRunner) await localRunner.stopAll();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

async function createPushSubscriptions(urls: Record<keyof HostPorts, string>) {
  const { projectId } = config();
  for (const trigger of TRIGGERS) {
    const topic = pubsub().topic(trigger.topic);
    const [exists] = await topic.exists();
    if (!exists) await topic.create();
    const subscription = topic.subscription(`${trigger.fn}-push`);
    const pushEndpoint = `${urls[trigger.fn]}/projects/${projectId}/topics/${trigger.topic}`;
    const [subscribed] = await subscription.exists();
    if (subscribed) await subscription.delete();
    await topic.createSubscription(`${trigger.fn}-push`, {
      pushConfig: { pushEndpoint },
      ackDeadlineSeconds: trigger.ackSeconds,
      retryPolicy: {
        minimumBackoff: { seconds: 1 },
        maximumBackoff: { seconds: 60 },
      },
    });
  }
}
