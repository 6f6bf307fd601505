import {
  spawn,
  type ChildProcess,
  type SpawnOptions,
} from 'node:child_process';
import { createServer } from 'node:net';
import getPort from 'get-port';

// A child started in its own process group, so that stopping the group also
// stops what it started (the emulators' JVMs, npm's children).
export type Service = {
  name: string;
  child: ChildProcess;
  output: string[];
  stop(): Promise<void>;
};

// Every service this process started and has not stopped, so that a signal
// during start-up can still stop them all.
const running = new Set<Service>();

export async function stopAllServices() {
  await Promise.all([...running].map((service) => service.stop()));
}

export function startService(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { echo?: boolean } = {},
): Service {
  const child = spawn(command, args, {
    ...options,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (data: Buffer) => {
    for (const line of data.toString().split('\n')) {
      if (!line) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      if (options.echo) process.stderr.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const service: Service = {
    name,
    child,
    output,
    async stop() {
      await stopGroup(child, exited);
      running.delete(service);
    },
  };
  running.add(service);
  return service;
}

async function stopGroup(child: ChildProcess, exited: Promise<void>) {
  if (child.pid === undefined) return;
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // The group may outlive its leader (a JVM under a wrapper script).
  signalGroup(child.pid, 'SIGKILL');
}

export function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  service: Service | null,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service && service.child.exitCode !== null) {
      throw new Error(
        `${what} exited with code ${service.child.exitCode}:\n` +
          service.output.slice(-20).join('\n'),
      );
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail = service ? '\n' + service.output.slice(-20).join('\n') : '';
      throw new Error(`${what} did not answer within ${timeoutMs} ms${tail}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function answers(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.status < 500;
}

export function freePort(): Promise<number> {
  return getPort({ host: '127.0.0.1' });
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
