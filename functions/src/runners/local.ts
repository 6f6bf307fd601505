import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import getPort from 'get-port';
import { RUN_FILE, type ServerCommand } from '../builders/serverCommand.ts';
import { config } from '../config.ts';
import { revisionNameFor } from '../ids.ts';
import { EntryPublisher, lineSplitter, logName } from '../local/entries.ts';
import type { Revision, RevisionInput, Runner } from '../seams.ts';

const LAUNCHER = resolve(import.meta.dirname, 'launch-stdio.mjs');
const LOOPBACK = pathToFileURL(
  resolve(import.meta.dirname, 'loopback.mjs'),
).href;
const SUPERGATEWAY = resolve(
  import.meta.dirname,
  '../../../node_modules/.bin/supergateway',
);
const START_TIMEOUT_MS = 60_000;

type RunningRevision = {
  serviceName: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  logs: EntryPublisher;
};

// Serves each revision as a child process on a free loopback port. Output
// goes to `deployment-logs` as Cloud Run revision entries. The previous
// revision of a service keeps serving until the new one is promoted.
export class LocalRunner implements Runner {
  private readonly revisions = new Map<string, RunningRevision>();
  private readonly live = new Map<string, string>();

  constructor(private readonly workRoot: string) {}

  async deploy(input: RevisionInput): Promise<Revision> {
    const revision = revisionNameFor(input.serviceName, input.deploymentId);
    const runFile = join(this.workRoot, input.deploymentId, RUN_FILE);
    const server = JSON.parse(await readFile(runFile, 'utf8')) as ServerCommand;
    // A restarted server keeps its earlier port when it can, so a client
    // configured with its URL still reaches it.
    const port =
      server.port ??
      (await earlierPort(input.deployment.url)) ??
      (await getPort({ host: '127.0.0.1' }));
    const env = {
      ...baseEnvironment(),
      ...input.deployment.env,
      ...input.secrets,
      PORT: String(port),
      K_SERVICE: input.serviceName,
      K_REVISION: revision,
      NODE_OPTIONS: `--import=${LOOPBACK}`,
    };
    const [command, args] =
      server.transport === 'stdio'
        ? [
            SUPERGATEWAY,
            [
              '--stdio',
              [process.execPath, LAUNCHER, runFile].map(shellQuote).join(' '),
              '--outputTransport',
              'streamableHttp',
              '--stateful',
              '--port',
              String(port),
              '--streamableHttpPath',
              server.path,
              '--healthEndpoint',
              '/healthz',
            ],
          ]
        : [server.command[0]!, server.command.slice(1)];

    const logs = new EntryPublisher({
      logName: logName('run.googleapis.com%2Fstdout'),
      resource: {
        type: 'cloud_run_revision',
        labels: {
          service_name: input.serviceName,
          revision_name: revision,
          configuration_name: input.serviceName,
          location: 'local',
          project_id: config().projectId,
        },
      },
    });
    const child = spawn(command, args, {
      cwd: server.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = lineSplitter((text) => logs.add(text));
    const stderr = lineSplitter((text) =>
      logs.add(text, {
        logName: logName('run.googleapis.com%2Fstderr'),
        severity: 'ERROR',
      }),
    );
    child.stdout.on('data', (data: Buffer) => stdout.write(data));
    child.stderr.on('data', (data: Buffer) => stderr.write(data));
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (code) => {
        stdout.end();
        stderr.end();
        resolve(code);
      });
    });
    this.revisions.set(revision, {
      serviceName: input.serviceName,
      child,
      exited,
      logs,
    });

    try {
      await waitForPort(port, exited);
    } catch (error) {
      await this.stop(revision);
      throw error;
    }
    return { revision, url: `http://127.0.0.1:${port}` };
  }

  async promote(input: RevisionInput, revision: Revision) {
    const previous = this.live.get(input.serviceName);
    this.live.set(input.serviceName, revision.revision);
    if (previous && previous !== revision.revision) await this.stop(previous);
    return { url: revision.url };
  }

  async discard(input: RevisionInput, revision: Revision) {
    if (this.live.get(input.serviceName) === revision.revision) return;
    await this.stop(revision.revision);
  }

  async stopAll() {
    await Promise.all([...this.revisions.keys()].map((r) => this.stop(r)));
  }

  private async stop(revision: string) {
    const running = this.revisions.get(revision);
    if (!running) return;
    this.revisions.delete(revision);
    signalGroup(running.child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(running.child, 'SIGKILL'), 3000);
    await running.exited;
    clearTimeout(timer);
    await running.logs.flush();
  }
}

async function waitForPort(port: number, exited: Promise<number | null>) {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `The server exited with code ${exitCode} before it listened on port ${port}.`,
      );
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `The server did not listen on port ${port} within ${START_TIMEOUT_MS / 1000} s.`,
  );
}

async function earlierPort(url: string | null): Promise<number | null> {
  if (!url) return null;
  const port = Number(new URL(url).port);
  return port && !(await canConnect(port)) ? port : null;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// Servers see a plain environment plus their own variables: never Sigyl's
// settings or credentials.
function baseEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  return env;
}

function shellQuote(value: string) {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
