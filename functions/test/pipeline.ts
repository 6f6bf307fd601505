import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  COLLECTIONS,
  type DeploymentDoc,
  type DeploymentStatus,
} from '@sigyl/types';
import { freePort } from '../../scripts/stack/processes.ts';
import { db } from '../src/firestore.ts';
import { startFunctionsHost, type FunctionsHost } from '../src/local/host.ts';

// The functions as `npm start` runs them, on free ports, pushed to by the
// Pub/Sub emulator, in the calling test file's own project.
export async function startPipeline(): Promise<FunctionsHost> {
  return startFunctionsHost({
    api: await freePort(),
    startDeployment: await freePort(),
    onBuildEvent: await freePort(),
    ingestLogs: await freePort(),
  });
}

export async function postDeployment(
  api: string,
  idToken: string | null,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${api}/deployments`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(idToken ? { authorization: `Bearer ${idToken}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  // The 202 body, or the error body of a 4xx: tests read either.
  type Body = { deploymentId: string; packageId: string; pageUrl: string } & {
    error: { code: string; message: string; field?: string };
  };
  return { status: response.status, body: (await response.json()) as Body };
}

export async function waitForStatus(
  deploymentId: string,
  statuses: DeploymentStatus[],
  timeoutMs = 120_000,
): Promise<DeploymentDoc> {
  const deadline = Date.now() + timeoutMs;
  let last: DeploymentDoc | undefined;
  while (Date.now() < deadline) {
    last = (
      await db().collection(COLLECTIONS.deployments).doc(deploymentId).get()
    ).data() as DeploymentDoc | undefined;
    if (last && statuses.includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `deployment ${deploymentId} did not reach ${statuses.join('/')}; it is ${last?.status}: ${JSON.stringify(last?.error)}`,
  );
}

// A git repository with the given files, committed, in a temp folder.
export function makeRepo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigyl-repo-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git(
    '-c',
    'user.name=test',
    '-c',
    'user.email=test@example.com',
    'commit',
    '-qm',
    'fixture',
  );
  return dir;
}

const SDK = join(
  import.meta.dirname,
  '../../node_modules/@modelcontextprotocol/sdk',
);

// A Streamable HTTP MCP server as a user's repository holds it: the official
// SDK (linked from this checkout, so no download), `npm start` on $PORT.
export function httpServerRepo(extra: Record<string, string> = {}): string {
  return makeRepo({
    'package.json': JSON.stringify({
      name: 'weather-server',
      version: '1.0.0',
      type: 'module',
      scripts: { build: 'node build.mjs', start: 'node server.mjs' },
      dependencies: { '@modelcontextprotocol/sdk': `file:${SDK}` },
    }),
    'build.mjs': "console.log('compiling weather tools');\n",
    'server.mjs': `import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const port = Number(process.env.PORT);
createServer(async (req, res) => {
  if (req.url !== '/mcp') { res.writeHead(404).end(); return; }
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool('forecast', { description: 'Tomorrow\\'s weather' }, () => ({
    content: [{ type: 'text', text: 'sunny' }],
  }));
  server.registerTool('alerts', { description: 'Weather alerts' }, () => ({
    content: [{ type: 'text', text: 'none' }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => { void transport.close(); void server.close(); });
  await server.connect(transport);
  let body = '';
  for await (const chunk of req) body += chunk;
  await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
}).listen(port, '127.0.0.1', () => console.log('weather server listening on ' + port));
`,
    ...extra,
  });
}
