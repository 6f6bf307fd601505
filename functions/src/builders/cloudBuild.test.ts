import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/stack/processes.ts';
import {
  startCloudBuildStandin,
  type CloudBuildStandin,
} from '../../test/standins/cloudBuild.ts';
import { cloudTestConfig } from '../../test/standins/config.ts';
import type { BuildPlan } from '../seams.ts';
import { deploymentIdFromTags } from './build.ts';
import { CloudBuildBuilder, LAUNCHER_SOURCE } from './cloudBuild.ts';

const config = cloudTestConfig();
const require = createRequire(import.meta.url);

function plan(overrides: Partial<BuildPlan> = {}): BuildPlan {
  return {
    deploymentId: 'd1a2b3c4d5e6f7g8h9i0',
    packageId: 'p1a2b3c4d5e6f7g8h9i0',
    serviceName: 'mcp-weather-1a2b3c4d',
    source: {
      type: 'github',
      url: 'https://github.com/example/weather-mcp',
      ref: 'v1.2.0',
      subdirectory: 'server',
    },
    run: { transport: 'http', args: ['--units', 'metric; echo $HOME'] },
    steps: [
      { id: 'fetch-source', title: 'Fetch source' },
      { id: 'install', title: 'Install' },
      { id: 'build', title: 'Build' },
      { id: 'bridge', title: 'Bridge' },
    ],
    buildSecretNames: [],
    timeoutSeconds: 1200,
    ...overrides,
  };
}

type RecordedBuild = {
  steps: {
    id: string;
    name: string;
    args?: string[];
    env?: string[];
    dir?: string;
    entrypoint?: string;
    secretEnv?: string[];
  }[];
  images: string[];
  tags: string[];
  timeout: { seconds: string };
  serviceAccount: string;
  options: { logging: string };
  availableSecrets?: { secretManager: { versionName: string; env: string }[] };
};

let standin: CloudBuildStandin;
let builder: CloudBuildBuilder;

beforeAll(async () => {
  standin = await startCloudBuildStandin();
  builder = new CloudBuildBuilder(config, standin.client());
});
afterAll(async () => {
  await standin.close();
});

function lastCreateBuild() {
  const recorded = standin.requests
    .filter((r) => r.method === 'CreateBuild')
    .at(-1);
  return recorded?.request as {
    parent: string;
    projectId: string;
    build: RecordedBuild;
  };
}

describe('CloudBuildBuilder', () => {
  it('asks Cloud Build for one build per deployment and returns its id', async () => {
    const { buildId } = await builder.start(plan());

    const request = lastCreateBuild();
    expect(standin.builds.has(buildId)).toBe(true);
    expect(request.parent).toBe('projects/demo-sigyl/locations/europe-west1');
    const { build } = request;
    expect(build.steps.map((step) => step.id)).toEqual([
      'fetch-source',
      'install',
      'build',
      'bridge',
      'image',
    ]);
    const image =
      'europe-west1-docker.pkg.dev/demo-sigyl/mcp-images/mcp-weather-1a2b3c4d:d1a2b3c4d5e6f7g8h9i0';
    expect(build.images).toEqual([image]);
    expect(deploymentIdFromTags(build.tags)).toBe('d1a2b3c4d5e6f7g8h9i0');
    for (const tag of build.tags)
      expect(tag).toMatch(/^[a-zA-Z0-9_.-]{1,128}$/);
    expect(build.timeout.seconds).toBe('1200');
    expect(build.serviceAccount).toBe(
      'projects/demo-sigyl/serviceAccounts/builder@demo-sigyl.iam.gserviceaccount.com',
    );
    expect(build.options.logging).toBe('CLOUD_LOGGING_ONLY');
    expect(build.steps.find((step) => step.id === 'install')?.dir).toBe(
      'src/server',
    );
    expect(build.steps.find((step) => step.id === 'image')?.env).toContain(
      `IMAGE=${image}`,
    );
  });

  it('keeps request values out of every shell script and escapes $ for Cloud Build', async () => {
    await builder.start(plan());
    const { build } = lastCreateBuild();

    const fetch = build.steps.find((step) => step.id === 'fetch-source')!;
    expect(fetch.env).toEqual([
      'SOURCE_URL=https://github.com/example/weather-mcp',
      'SOURCE_REF=v1.2.0',
    ]);
    const scripts = build.steps
      .filter((step) => step.args?.[0] === '-c')
      .map((step) => step.args![1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script).not.toContain('github.com/example');
      expect(script).not.toContain('v1.2.0');
      expect(script).not.toContain('metric');
      // Cloud Build would substitute a lone $NAME; every $ is doubled.
      expect(script.replaceAll('$$', '')).not.toContain('$');
    }
    const runJson = build.steps
      .find((step) => step.id === 'image')!
      .env!.find((e) => e.startsWith('RUN_JSON='))!;
    expect(runJson).toContain('metric; echo $$HOME');
    // What the step sees once Cloud Build has read $$ as $.
    const launcher = build.steps
      .find((step) => step.id === 'image')!
      .env!.find((e) => e.startsWith('LAUNCHER='))!;
    expect(launcher.slice('LAUNCHER='.length).replaceAll('$$', '$')).toBe(
      LAUNCHER_SOURCE,
    );
  });

  it('installs an npm package as one argument and puts the bridge in the image', async () => {
    await builder.start(
      plan({
        source: {
          type: 'npm',
          spec: '@modelcontextprotocol/server-memory@2025.8.4',
        },
        run: null,
        steps: [
          { id: 'fetch-source', title: 'Fetch package' },
          { id: 'install', title: 'Install' },
          { id: 'bridge', title: 'Bridge' },
        ],
      }),
    );
    const { build } = lastCreateBuild();

    expect(build.steps.map((step) => step.id)).toEqual([
      'fetch-source',
      'install',
      'bridge',
      'image',
    ]);
    const install = build.steps.find((step) => step.id === 'install')!;
    expect(install.entrypoint).toBe('npm');
    expect(install.args?.slice(-2)).toEqual([
      '--',
      '@modelcontextprotocol/server-memory@2025.8.4',
    ]);
    const bridge = build.steps.find((step) => step.id === 'bridge')!;
    expect(bridge.env).toEqual(['BRIDGE_PACKAGE=supergateway@4']);
    const env = build.steps.find((step) => step.id === 'image')!.env!;
    expect(env).toContain(
      `RUN_JSON=${JSON.stringify({ source: 'npm', packageName: '@modelcontextprotocol/server-memory', run: {} })}`,
    );
  });

  it('gives build secrets by Secret Manager reference only', async () => {
    await builder.start(plan({ buildSecretNames: ['NPM_TOKEN'] }));
    const { build } = lastCreateBuild();

    expect(build.availableSecrets?.secretManager).toEqual([
      {
        versionName:
          'projects/demo-sigyl/secrets/sigyl-d1a2b3c4d5e6f7g8h9i0-NPM_TOKEN/versions/latest',
        env: 'NPM_TOKEN',
      },
    ]);
    expect(
      build.steps.find((step) => step.id === 'install')?.secretEnv,
    ).toEqual(['NPM_TOKEN']);
    expect(
      build.steps.find((step) => step.id === 'fetch-source')?.secretEnv ?? [],
    ).toEqual([]);
    expect(JSON.stringify(standin.requests)).not.toMatch(
      /ghp_|x-access-token|token=/i,
    );
  });

  it('refuses a repository on disk, which only local mode can build', async () => {
    await expect(
      builder.start(
        plan({ source: { type: 'git', url: '/home/someone/server' } }),
      ),
    ).rejects.toThrow(/only be built in local mode/);
  });

  it('cancels through the API', async () => {
    const { buildId } = await builder.start(plan());
    await builder.cancel(buildId);

    const cancel = standin.requests
      .filter((r) => r.method === 'CancelBuild')
      .at(-1)?.request;
    expect(cancel).toMatchObject({
      id: buildId,
      name: `projects/demo-sigyl/locations/europe-west1/builds/${buildId}`,
    });
    expect(standin.builds.get(buildId)?.status).toBe('CANCELLED');
  });

  it('reports a refused build with a readable reason and the deployment', async () => {
    standin.failNext(
      'CreateBuild',
      8,
      "Quota exceeded for quota metric 'Build requests' of service cloudbuild.googleapis.com",
    );

    const failure = builder.start(plan());
    await expect(failure).rejects.toThrow(
      "Cloud Build refused the build for deployment d1a2b3c4d5e6f7g8h9i0: Quota exceeded for quota metric 'Build requests'",
    );
  });
});

// An image's /app folder as the build leaves it: one npm package whose
// binary is `bin`, the launcher and its run file.
async function imageApp(bin: string, args: string[]) {
  const app = await mkdtemp(join(tmpdir(), 'sigyl-launcher-'));
  const modules = join(app, 'node_modules');
  await mkdir(join(app, '.sigyl'), { recursive: true });
  await mkdir(join(modules, '@acme', 'tool'), { recursive: true });
  await mkdir(join(modules, '.bin'), { recursive: true });
  await writeFile(
    join(modules, '@acme', 'tool', 'package.json'),
    JSON.stringify({ name: '@acme/tool', bin: { tool: 'bin/tool.js' } }),
  );
  await writeFile(join(modules, '.bin', 'tool'), bin, { mode: 0o755 });
  await writeFile(join(app, '.sigyl', 'launch.mjs'), LAUNCHER_SOURCE);
  await writeFile(
    join(app, '.sigyl', 'run.json'),
    JSON.stringify({ source: 'npm', packageName: '@acme/tool', run: { args } }),
  );
  return app;
}

const ARGS = ['a b', '$(touch pwned)', ';ls'];

describe('the launcher in the image', () => {
  it('runs the package binary with the run arguments, never through a shell', async () => {
    const app = await imageApp(
      '#!/usr/bin/env node\nconsole.log(JSON.stringify(process.argv.slice(2)));\n',
      ARGS,
    );

    const { stdout } = await promisify(execFile)('node', [
      join(app, '.sigyl', 'launch.mjs'),
      '--child',
    ]);
    expect(JSON.parse(stdout)).toEqual(ARGS);
  });

  it('serves a stdio server over Streamable HTTP through the bridge', async () => {
    const sdk = dirname(
      require.resolve('@modelcontextprotocol/sdk/server/mcp.js'),
    ).replace(`${sep}cjs${sep}`, `${sep}esm${sep}`);
    const app = await imageApp(
      `#!/usr/bin/env node
import { McpServer } from ${JSON.stringify(pathToFileURL(join(sdk, 'mcp.js')).href)};
import { StdioServerTransport } from ${JSON.stringify(pathToFileURL(join(sdk, 'stdio.js')).href)};
const server = new McpServer({ name: 'tool', version: '1.0.0' });
server.registerTool('echo', { description: 'Says its run arguments' }, async () => ({
  content: [{ type: 'text', text: JSON.stringify(process.argv.slice(2)) }],
}));
await server.connect(new StdioServerTransport());
`,
      ARGS,
    );
    const bridgeBin = join(app, '.sigyl', 'bridge', 'node_modules', '.bin');
    await mkdir(bridgeBin, { recursive: true });
    await symlink(
      join(
        dirname(require.resolve('supergateway/package.json')),
        'dist',
        'index.js',
      ),
      join(bridgeBin, 'supergateway'),
    );
    const port = await freePort();
    const image = spawn('node', [join(app, '.sigyl', 'launch.mjs')], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    });

    try {
      await waitForHealth(`http://127.0.0.1:${port}/healthz`);
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(
          new URL(`http://127.0.0.1:${port}/mcp`),
        ),
      );
      const { tools } = await client.listTools();
      const answer = await client.callTool({ name: 'echo', arguments: {} });
      await client.close();

      expect(tools.map((tool) => tool.name)).toEqual(['echo']);
      const [content] = answer.content as { text: string }[];
      expect(JSON.parse(content!.text)).toEqual(ARGS);
    } finally {
      image.kill('SIGTERM');
    }
  });
});

async function waitForHealth(url: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}
