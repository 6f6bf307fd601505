import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  COLLECTIONS,
  mergeLines,
  type LogChunkDoc,
  type LogLine,
  type PackageDoc,
} from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, useTestProject } from '../../test/env.ts';
import {
  httpServerRepo,
  makeRepo,
  postDeployment,
  startPipeline,
  waitForStatus,
} from '../../test/pipeline.ts';
import { db } from '../firestore.ts';
import type { FunctionsHost } from '../local/host.ts';

// The whole local path, on real input: the API, Pub/Sub pushes into the
// functions, the local builder and runner, verification, the log pipeline.
const projectId = useTestProject('pipeline');
let host: FunctionsHost;
let token: string;

beforeAll(async () => {
  host = await startPipeline();
  token = (await signUp(projectId)).idToken;
}, 60_000);
afterAll(async () => host?.stop());

async function logLines(deploymentId: string): Promise<LogLine[]> {
  const chunks = await db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .get();
  return mergeLines(chunks.docs.map((d) => (d.data() as LogChunkDoc).lines));
}

async function listTools(url: string): Promise<string[]> {
  const client = new Client({ name: 'pipeline-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`)),
  );
  const { tools } = await client.listTools();
  await client.close();
  return tools.map((t) => t.name);
}

describe('a deployment from request to live server', () => {
  it('deploys @modelcontextprotocol/server-everything from npm', async () => {
    const { status, body } = await postDeployment(host.urls.api, token, {
      source: {
        type: 'npm',
        spec: '@modelcontextprotocol/server-everything@2026.8.31',
      },
      package: { name: 'Everything' },
    });
    expect(status).toBe(202);
    expect(body.pageUrl).toBe(`/mcp/${body.packageId}?new=true&deploying=true`);

    const deployment = await waitForStatus(
      body.deploymentId,
      ['live', 'failed'],
      240_000,
    );
    expect(deployment.error).toBeNull();
    expect(deployment.status).toBe('live');
    expect(deployment.steps.map((s) => s.status)).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);

    const tools = await listTools(deployment.url!);
    expect(tools).toContain('echo');
    // The bridge serves on loopback only, though it asks for every
    // interface.
    const port = new URL(deployment.url!).port;
    const listening = execFileSync('ss', ['-ltnH', `sport = :${port}`], {
      encoding: 'utf8',
    });
    expect(listening).toContain(`127.0.0.1:${port}`);
    expect(listening).not.toMatch(/(\*|0\.0\.0\.0|\[::\]):\d+/);
    const pkg = (
      await db().collection(COLLECTIONS.packages).doc(body.packageId).get()
    ).data() as PackageDoc;
    expect(pkg.liveDeploymentId).toBe(body.deploymentId);
    expect(pkg.tools.map((t) => t.name).sort()).toEqual([...tools].sort());

    const lines = await logLines(body.deploymentId);
    const texts = lines.map((l) => l.text);
    expect(texts).toContain('Build started.');
    expect(texts.some((t) => t.startsWith('Verified: '))).toBe(true);
    // Real output of the build (npm) and of the running server.
    expect(
      lines.some((l) => l.source === 'build' && l.step === 'install'),
    ).toBe(true);
    expect(lines.some((l) => l.source === 'runtime')).toBe(true);
  }, 300_000);

  it('deploys a Streamable HTTP server from a local git repository', async () => {
    const repo = httpServerRepo();
    const { body } = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo, ref: 'main' },
      package: { name: 'Weather' },
    });
    const deployment = await waitForStatus(body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(deployment.error).toBeNull();
    expect(await listTools(deployment.url!)).toEqual(['forecast', 'alerts']);
    const lines = await logLines(body.deploymentId);
    expect(
      lines.some(
        (l) => l.step === 'build' && l.text === 'compiling weather tools',
      ),
    ).toBe(true);
    expect(
      lines.some(
        (l) =>
          l.source === 'runtime' &&
          l.text.startsWith('weather server listening'),
      ),
    ).toBe(true);
  }, 180_000);

  it('fails a build step with its reason and its last lines (case 11)', async () => {
    const repo = makeRepo({
      'package.json': JSON.stringify({
        name: 'broken',
        scripts: { build: 'node build.mjs', start: 'node server.mjs' },
      }),
      'build.mjs':
        "console.log('type error in src/index.ts:12'); process.exit(1);\n",
    });
    const { body } = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo },
      package: { name: 'Broken build' },
    });
    const deployment = await waitForStatus(body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(deployment.status).toBe('failed');
    expect(deployment.error?.step).toBe('build');
    expect(deployment.error?.message).toMatch(
      /"build" failed.*non-zero status: 1/,
    );
    expect(deployment.error?.tail).toContain('type error in src/index.ts:12');
    expect(deployment.steps.find((s) => s.name === 'build')?.status).toBe(
      'failed',
    );
    expect(deployment.steps.find((s) => s.name === 'deploy')?.status).toBe(
      'skipped',
    );
  }, 120_000);

  it('fails a source that cannot be fetched (case 11)', async () => {
    const repo = httpServerRepo();
    const { body } = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo, ref: 'no-such-branch' },
      package: { name: 'Missing ref' },
    });
    const deployment = await waitForStatus(body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(deployment.error?.step).toBe('source');
    expect(deployment.error?.message).toContain('no-such-branch');
  }, 120_000);

  it('fails a server that exits at start, with its output', async () => {
    const repo = makeRepo({
      'package.json': JSON.stringify({
        name: 'crash',
        scripts: { start: 'node server.mjs' },
      }),
      'server.mjs':
        "console.error('missing WEATHER_API_KEY'); process.exit(3);\n",
    });
    const { body } = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo },
      package: { name: 'Crashes' },
    });
    const deployment = await waitForStatus(body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(deployment.error?.step).toBe('deploy');
    expect(deployment.error?.message).toMatch(/exited with code/);
    expect(deployment.error?.tail).toContain('missing WEATHER_API_KEY');
  }, 120_000);

  it('fails a server that builds but is not MCP (case 11)', async () => {
    const repo = makeRepo({
      'package.json': JSON.stringify({
        name: 'plain',
        scripts: { start: 'node server.mjs' },
      }),
      'server.mjs':
        `require('node:http').createServer((req, res) => res.end('<html>hello</html>')).listen(process.env.PORT);\n`.replace(
          "require('node:http')",
          "(await import('node:http')).default",
        ),
    });
    const { body } = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo },
      package: { name: 'Not MCP' },
    });
    const deployment = await waitForStatus(body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(deployment.error?.step).toBe('verify');
    expect(deployment.error?.message.length).toBeGreaterThan(10);
  }, 120_000);

  it('gives the server its variables and secrets, masked in the log (case 9)', async () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const repo = httpServerRepo({
      'sigyl.json': JSON.stringify({
        start: 'node print-env.mjs && node server.mjs',
      }),
      'print-env.mjs':
        "console.log('units ' + process.env.UNITS);\n" +
        "console.log('api key ' + process.env.API_KEY);\n" +
        'console.log(process.env.TLS_KEY);\n',
    });
    const { body } = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo },
      package: { name: 'Env' },
      env: { UNITS: 'metric' },
      secrets: { API_KEY: 'sk-live-4242424242', TLS_KEY: pem },
    });
    const deployment = await waitForStatus(body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(deployment.status).toBe('live');
    const texts = (await logLines(body.deploymentId)).map((l) => l.text);
    expect(texts).toContain('units metric');
    expect(
      texts.some((t) => t.startsWith('api key ') && !t.includes('sk-live')),
    ).toBe(true);
    const stored = JSON.stringify(texts);
    expect(stored).not.toContain('sk-live-4242424242');
    expect(stored).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  }, 120_000);

  it('keeps two deployments of one package apart when the second is cancelled (case 12)', async () => {
    const repo = httpServerRepo({
      'build.mjs':
        "for (let i = 1; i <= 40; i++) { console.log('build line ' + i); await new Promise((r) => setTimeout(r, 100)); }\n",
    });
    const first = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo },
      package: { name: 'Twice' },
    });
    await new Promise((r) => setTimeout(r, 2000));
    const second = await postDeployment(host.urls.api, token, {
      source: { type: 'git', url: repo },
      package: { name: 'Twice' },
      packageId: first.body.packageId,
    });
    expect(second.body.packageId).toBe(first.body.packageId);

    // Cancel mid-build, once the second build has printed something.
    const deadline = Date.now() + 60_000;
    while (
      !(await logLines(second.body.deploymentId)).some(
        (l) => l.text === 'build line 5',
      )
    ) {
      if (Date.now() > deadline)
        throw new Error('the second build never printed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cancel = await fetch(
      `${host.urls.api}/deployments/${second.body.deploymentId}/cancel`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(cancel.status).toBe(200);

    const cancelled = await waitForStatus(second.body.deploymentId, [
      'cancelled',
      'live',
      'failed',
    ]);
    const live = await waitForStatus(first.body.deploymentId, [
      'live',
      'failed',
    ]);
    expect(cancelled.status).toBe('cancelled');
    expect(live.status).toBe('live');

    const firstLines = (await logLines(first.body.deploymentId)).map(
      (l) => l.text,
    );
    const secondLines = (await logLines(second.body.deploymentId)).map(
      (l) => l.text,
    );
    for (let i = 1; i <= 40; i++)
      expect(firstLines).toContain(`build line ${i}`);
    expect(secondLines).toContain('Deployment cancelled.');
    // The cancelled build was stopped: it never printed its last line.
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      (await logLines(second.body.deploymentId)).map((l) => l.text),
    ).not.toContain('build line 40');
    // Each line sits in its own deployment's log only.
    expect(
      firstLines.filter((t) => t === 'Deployment cancelled.'),
    ).toHaveLength(0);
    const pkg = (
      await db()
        .collection(COLLECTIONS.packages)
        .doc(first.body.packageId)
        .get()
    ).data() as PackageDoc;
    expect(pkg.liveDeploymentId).toBe(first.body.deploymentId);
    expect(pkg.currentDeploymentId).toBe(second.body.deploymentId);
    const again = await fetch(
      `${host.urls.api}/deployments/${second.body.deploymentId}/cancel`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(again.status).toBe(409);
  }, 180_000);
});
