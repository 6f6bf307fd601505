import { createServer, type Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { TOPICS } from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/stack/processes.ts';
import { useAdapters } from '../../src/adapters.ts';
import { CloudBuildBuilder } from '../../src/builders/cloudBuild.ts';
import type { FunctionsHost } from '../../src/local/host.ts';
import { publishJson } from '../../src/pubsub.ts';
import { CloudRunRunner } from '../../src/runners/cloudRun.ts';
import { signUp, useTestProject } from '../env.ts';
import { postDeployment, startPipeline, waitForStatus } from '../pipeline.ts';
import {
  buildJson,
  startCloudBuildStandin,
  type CloudBuildStandin,
  type StandinBuild,
} from './cloudBuild.ts';
import { startCloudRunStandin, type CloudRunStandin } from './cloudRun.ts';
import { cloudTestConfig } from './config.ts';

// The functions with the Google Cloud adapters, against the stand-ins: Cloud
// Build "runs" each build by reporting statuses on `cloud-builds` as the
// service does, and Cloud Run answers with the URL of a local MCP server.
// Which outcome a deployment gets follows from its package name.

const projectId = useTestProject('cloudpipe');
const SECRET_VALUE = 'sk-cloud-pipeline-secret-9f8e';
let mcp: Server;
let builds: CloudBuildStandin;
let run: CloudRunStandin;
let host: FunctionsHost;
let token: string;

beforeAll(async () => {
  const mcpPort = await freePort();
  mcp = createServer((req, res) => void serveMcp(req, res)).listen(
    mcpPort,
    '127.0.0.1',
  );
  builds = await startCloudBuildStandin({
    onCreate: (build) => runBuild(build),
    onStatus: (build) =>
      publishJson(TOPICS.cloudBuilds, buildJson(build), {
        buildId: build.id,
        status: build.status,
      }).then(() => undefined),
  });
  run = await startCloudRunStandin({
    url: () => `http://127.0.0.1:${mcpPort}`,
    revisionFailure: (revision) =>
      revision.startsWith('mcp-not-ready-')
        ? 'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.'
        : null,
  });
  const config = cloudTestConfig(projectId);
  useAdapters({
    builder: new CloudBuildBuilder(config, builds.client()),
    runner: new CloudRunRunner(config, run.clients()),
  });
  host = await startPipeline();
  token = (await signUp(projectId)).idToken;
}, 120_000);

afterAll(async () => {
  await host?.stop();
  mcp?.close();
  await builds?.close();
  await run?.close();
});

// Cloud Build reports WORKING, then the end of the build.
function runBuild(build: StandinBuild) {
  const fails = build.images?.some((image) => image.includes('/mcp-broken-'));
  const steps = build.steps ?? [];
  setTimeout(() => builds.setStatus(build.id, 'WORKING'), 100);
  setTimeout(() => {
    if (!fails) {
      builds.setStatus(build.id, 'SUCCESS', {
        steps: steps.map((step) => ({ ...step, status: 'SUCCESS' })),
      });
      return;
    }
    builds.setStatus(build.id, 'FAILURE', {
      steps: steps.map((step) => ({
        ...step,
        status: step.id === 'install' ? 'FAILURE' : 'SUCCESS',
      })),
      failureInfo: {
        type: 'USER_BUILD_STEP',
        detail:
          'Build step failure: build step 1 "node:20" failed: step exited with non-zero status: 1',
      },
    });
  }, 400);
}

async function serveMcp(
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
) {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool('forecast', { description: 'Tomorrow' }, () => ({
    content: [{ type: 'text', text: 'sunny' }],
  }));
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  let body = '';
  for await (const chunk of req) body += chunk;
  await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
}

async function deploy(name: string) {
  const { status, body } = await postDeployment(host.urls.api, token, {
    source: {
      type: 'github',
      url: 'https://github.com/example/weather',
      ref: 'main',
    },
    package: { name },
    env: { UNITS: 'metric' },
    secrets: { API_KEY: SECRET_VALUE },
  });
  expect(status).toBe(202);
  return body.deploymentId as string;
}

describe('the pipeline with the Google Cloud adapters', () => {
  it('reaches live on the verified revision', async () => {
    const deploymentId = await deploy('Weather');

    const done = await waitForStatus(deploymentId, ['live', 'failed'], 60_000);

    expect(done.error).toBeNull();
    expect(done.status).toBe('live');
    expect(done.revision).toMatch(
      new RegExp(`^mcp-weather-.*-${deploymentId}$`),
    );
    const created = builds.builds.get(done.buildId!);
    expect(created?.tags).toContain(`sigyl-deployment-${deploymentId}`);
    expect(JSON.stringify([builds.requests, run.requests])).not.toContain(
      SECRET_VALUE,
    );
  });

  it('fails with the reason Cloud Build gives for a failed build', async () => {
    const deploymentId = await deploy('Broken');

    const done = await waitForStatus(deploymentId, ['live', 'failed'], 60_000);

    expect(done.status).toBe('failed');
    expect(done.error?.step).toBe('build');
    expect(done.error?.message).toContain(
      'step exited with non-zero status: 1',
    );
  });

  it('fails with the condition message of a revision that is not ready', async () => {
    const deploymentId = await deploy('Not Ready');

    const done = await waitForStatus(deploymentId, ['live', 'failed'], 60_000);

    expect(done.status).toBe('failed');
    expect(done.error?.step).toBe('deploy');
    expect(done.error?.message).toContain(
      'The user-provided container failed to start and listen on the port',
    );
  });

  it('fails with a readable message when Cloud Run is out of quota', async () => {
    run.failNext(
      'CreateService',
      8,
      "Quota exceeded for quota metric 'Services per region'.",
    );
    const deploymentId = await deploy('Quota');

    const done = await waitForStatus(deploymentId, ['live', 'failed'], 60_000);

    expect(done.status).toBe('failed');
    expect(done.error?.message).toContain('Cloud Run quota exceeded');
  });
});
