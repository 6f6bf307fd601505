import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { COLLECTIONS, type PackageDoc } from '@sigyl/types';
import { afterAll, describe, expect, it } from 'vitest';
import { signUp, useTestProject } from '../../test/env.ts';
import {
  httpServerRepo,
  postDeployment,
  startPipeline,
  waitForStatus,
} from '../../test/pipeline.ts';
import { db } from '../firestore.ts';
import type { FunctionsHost } from './host.ts';

// What a user sees after stopping `npm start` mid-deployment and starting it
// again: the cut-off deployment failed with the reason, the live server
// serving again.
useTestProject('restart');
let host: FunctionsHost | null = null;
afterAll(async () => host?.stop());

async function listTools(url: string) {
  const client = new Client({ name: 'restart-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`)),
  );
  const { tools } = await client.listTools();
  await client.close();
  return tools.map((t) => t.name);
}

describe('restarting the local functions host', () => {
  it('fails deployments that were cut off and restarts live servers', async () => {
    host = await startPipeline();
    const { idToken } = await signUp();
    const live = await postDeployment(host.urls.api, idToken, {
      source: { type: 'git', url: httpServerRepo() },
      package: { name: 'Stays up' },
    });
    const urlBefore = (await waitForStatus(live.body.deploymentId, ['live']))
      .url;

    const slow = await postDeployment(host.urls.api, idToken, {
      source: {
        type: 'git',
        url: httpServerRepo({
          'build.mjs': 'await new Promise((r) => setTimeout(r, 60_000));\n',
        }),
      },
      package: { name: 'Cut off' },
    });
    await waitForStatus(slow.body.deploymentId, ['building']);

    await host.stop();
    host = await startPipeline();

    const cutOff = await waitForStatus(
      slow.body.deploymentId,
      ['failed', 'cancelled'],
      30_000,
    );
    expect(cutOff.status).toBe('failed');
    expect(cutOff.error?.message).toContain('restarted');

    const deadline = Date.now() + 30_000;
    let pkg: PackageDoc | undefined;
    let tools: string[] = [];
    while (Date.now() < deadline && tools.length === 0) {
      pkg = (
        await db()
          .collection(COLLECTIONS.packages)
          .doc(live.body.packageId)
          .get()
      ).data() as PackageDoc;
      tools = await listTools(pkg.url!).catch(() => []);
      if (tools.length === 0) await new Promise((r) => setTimeout(r, 300));
    }
    expect(tools).toEqual(['forecast', 'alerts']);
    // Clients configured with the URL before the restart still reach it.
    expect(pkg?.url).toBe(urlBefore);
  }, 180_000);
});
