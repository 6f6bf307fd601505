import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '@sigyl/types';
import { parseNpmSpec } from '../api/validate.ts';
import type { BuildPlan } from '../seams.ts';

export const RUN_FILE = 'sigyl-run.json';

// How a built server starts, written by the build's last step and read by
// the runner.
export type ServerCommand = {
  transport: 'stdio' | 'http';
  command: string[];
  cwd: string;
  // The port an HTTP server listens on; when absent it reads $PORT.
  port?: number;
  path: string;
};

// A repository's sigyl.json: the fields of `run` plus build and start
// commands.
type Settings = Partial<RunConfig> & { build?: string; start?: string };

export async function resolveServer(
  plan: BuildPlan,
  appDir: string,
): Promise<ServerCommand> {
  if (plan.source.type === 'npm') {
    const { name } = parseNpmSpec(plan.source.spec);
    const run: RunConfig = plan.run ?? { transport: 'stdio' };
    const bin = await binaryOf(join(appDir, 'node_modules', name), name);
    return {
      transport: run.transport,
      command: [join(appDir, 'node_modules', '.bin', bin), ...(run.args ?? [])],
      cwd: appDir,
      port: run.port,
      path: run.path ?? '/mcp',
    };
  }
  const settings = await readJson<Settings>(join(appDir, 'sigyl.json'));
  const transport = plan.run?.transport ?? settings?.transport ?? 'http';
  const args = plan.run?.args ?? settings?.args ?? [];
  const start = settings?.start
    ? ['sh', '-c', settings.start]
    : // --silent keeps npm's banner out of a stdio server's protocol stream.
      ['npm', 'start', '--silent'];
  return {
    transport,
    command: args.length
      ? [...start, ...(start[0] === 'npm' ? ['--'] : []), ...args]
      : start,
    cwd: appDir,
    port: plan.run?.port ?? settings?.port,
    path: plan.run?.path ?? settings?.path ?? '/mcp',
  };
}

async function binaryOf(packageDir: string, name: string): Promise<string> {
  const manifest = await readJson<{ bin?: string | Record<string, string> }>(
    join(packageDir, 'package.json'),
  );
  if (!manifest) throw new Error(`${name} is not installed`);
  const unscoped = name.replace(/^@[^/]+\//, '');
  if (typeof manifest.bin === 'string') return unscoped;
  const names = Object.keys(manifest.bin ?? {});
  if (names.length === 0) {
    throw new Error(
      `${name} has no executable (no "bin" in its package.json), so it cannot run as a server`,
    );
  }
  return names.includes(unscoped) ? unscoped : names[0]!;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
