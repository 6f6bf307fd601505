import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TOPICS } from '@sigyl/types';
import { config } from '../config.ts';
import { EntryPublisher, lineSplitter, logName } from '../local/entries.ts';
import { errorFields, log } from '../log.ts';
import { publishJson } from '../pubsub.ts';
import type { BuildPlan, BuildStepId, Builder } from '../seams.ts';
import { buildTags, type BuildResource, type BuildStatus } from './build.ts';
import { resolveServer, RUN_FILE } from './serverCommand.ts';

type RunningBuild = {
  build: BuildResource;
  plan: BuildPlan;
  logs: EntryPublisher;
  child: ChildProcess | null;
  // SHUTDOWN: Sigyl itself is stopping; the next start fails the deployment.
  stopReason: 'CANCELLED' | 'TIMEOUT' | 'SHUTDOWN' | null;
  done: Promise<void>;
};

class StepFailure extends Error {}

// Builds in child processes under `<home>/work/<deploymentId>`: a native Node
// build, since this machine has no container engine. It publishes what Cloud
// Build publishes: status on `cloud-builds`, every line as a LogEntry.
export class LocalBuilder implements Builder {
  private readonly builds = new Map<string, RunningBuild>();

  constructor(private readonly workRoot: string) {}

  async start(plan: BuildPlan): Promise<{ buildId: string }> {
    const buildId = randomUUID();
    const now = new Date().toISOString();
    const build: BuildResource = {
      id: buildId,
      projectId: config().projectId,
      status: 'QUEUED',
      createTime: now,
      timeout: `${plan.timeoutSeconds}s`,
      tags: buildTags(plan.deploymentId),
      steps: plan.steps.map((step) => ({
        id: step.id,
        name: 'local',
        status: 'QUEUED',
      })),
    };
    const running: RunningBuild = {
      build,
      plan,
      logs: new EntryPublisher({
        logName: logName('cloudbuild'),
        resource: {
          type: 'build',
          labels: { build_id: buildId, project_id: config().projectId },
        },
      }),
      child: null,
      stopReason: null,
      done: Promise.resolve(),
    };
    this.builds.set(buildId, running);
    await this.publishStatus(running);
    running.done = this.run(running)
      .catch((error: unknown) =>
        log('ERROR', 'local build crashed', { buildId, ...errorFields(error) }),
      )
      .finally(() => this.builds.delete(buildId));
    return { buildId };
  }

  async cancel(buildId: string): Promise<void> {
    const running = this.builds.get(buildId);
    if (!running) return;
    running.stopReason ??= 'CANCELLED';
    killGroup(running.child);
    await running.done;
  }

  // Stops every build without a final status, for a shutdown of the local
  // stack: the next start marks those deployments as cut off.
  async stopAll() {
    await Promise.all(
      [...this.builds.values()].map(async (running) => {
        running.stopReason = 'SHUTDOWN';
        killGroup(running.child);
        await running.done;
      }),
    );
  }

  private async run(running: RunningBuild) {
    const { build, plan, logs } = running;
    const main = (text: string) =>
      logs.add(text, { labels: { build_step: 'MAIN' } });
    const timer = setTimeout(() => {
      running.stopReason ??= 'TIMEOUT';
      killGroup(running.child);
    }, plan.timeoutSeconds * 1000);

    build.status = 'WORKING';
    build.startTime = new Date().toISOString();
    await this.publishStatus(running);
    main(`starting build "${build.id}"`);

    const workDir = join(this.workRoot, plan.deploymentId);
    let failure: string | null = null;
    try {
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      for (const [index, step] of plan.steps.entries()) {
        if (running.stopReason) break;
        const label = `Step #${index} - "${step.id}"`;
        const buildStep = build.steps[index]!;
        buildStep.status = 'WORKING';
        buildStep.timing = { startTime: new Date().toISOString() };
        // Like Cloud Build, a step's own start and finish lines carry its
        // label, so the step's log (and the page's timeline) starts with it.
        logs.add(`Starting ${label}`, { labels: { build_step: label } });
        try {
          await this.runStep(running, step.id, workDir, label);
          buildStep.status = 'SUCCESS';
          logs.add(`Finished ${label}`, { labels: { build_step: label } });
        } catch (error) {
          buildStep.status =
            running.stopReason === 'TIMEOUT'
              ? 'TIMEOUT'
              : running.stopReason
                ? 'CANCELLED'
                : 'FAILURE';
          failure = `Build step ${index} "${step.id}" failed: ${(error as Error).message}`;
          break;
        } finally {
          buildStep.timing.endTime = new Date().toISOString();
        }
      }
    } catch (error) {
      failure = `The build could not run: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }

    if (running.stopReason === 'SHUTDOWN') return;
    const status: BuildStatus =
      running.stopReason ?? (failure ? 'FAILURE' : 'SUCCESS');
    if (status === 'FAILURE' && failure) {
      build.failureInfo = { type: 'USER_BUILD_STEP', detail: failure };
      build.statusDetail = failure;
      main(`ERROR: ${failure}`);
    }
    if (status === 'TIMEOUT') {
      build.statusDetail = `Build timed out after ${plan.timeoutSeconds} s.`;
      main(`ERROR: ${build.statusDetail}`);
    }
    if (status === 'CANCELLED') main('Build cancelled.');
    if (status === 'SUCCESS') main('DONE');
    for (const step of build.steps) {
      if (step.status === 'QUEUED') step.status = 'CANCELLED';
    }
    build.status = status;
    build.finishTime = new Date().toISOString();
    // Lines first, then the final status, as Cloud Build does.
    await logs.flush();
    await this.publishStatus(running);
  }

  private async runStep(
    running: RunningBuild,
    step: BuildStepId,
    workDir: string,
    label: string,
  ) {
    const { plan, logs } = running;
    const say = (text: string) =>
      logs.add(text, { labels: { build_step: label } });
    const sourceDir = join(workDir, 'source');
    const appDir = appDirectory(plan, workDir);

    switch (step) {
      case 'fetch-source': {
        const source = plan.source;
        if (source.type === 'npm') {
          await mkdir(sourceDir, { recursive: true });
          await this.exec(running, label, sourceDir, 'npm', [
            'pack',
            source.spec,
            '--pack-destination',
            sourceDir,
            '--no-fund',
          ]);
          return;
        }
        const url = source.type === 'github' ? `${source.url}.git` : source.url;
        await this.exec(running, label, workDir, 'git', [
          'clone',
          '--no-checkout',
          '--',
          url,
          sourceDir,
        ]);
        await this.exec(running, label, sourceDir, 'git', [
          '-c',
          'advice.detachedHead=false',
          'checkout',
          '--detach',
          await resolveRef(sourceDir, source.ref),
          '--',
        ]);
        if (!existsSync(appDir)) {
          throw new StepFailure(
            `the folder ${source.subdirectory} does not exist in the repository`,
          );
        }
        return;
      }
      case 'install': {
        if (plan.source.type === 'npm') {
          const tarball = (await readdir(sourceDir)).find((f) =>
            f.endsWith('.tgz'),
          );
          if (!tarball) throw new StepFailure('npm pack produced no package');
          await mkdir(appDir, { recursive: true });
          await writeFile(
            join(appDir, 'package.json'),
            JSON.stringify({ name: 'sigyl-server', private: true }),
          );
          await this.exec(running, label, appDir, 'npm', [
            'install',
            '--omit=dev',
            '--no-audit',
            '--no-fund',
            join(sourceDir, tarball),
          ]);
          return;
        }
        if (!existsSync(join(appDir, 'package.json'))) {
          const docker = existsSync(join(appDir, 'Dockerfile'));
          const reason = docker
            ? 'this repository builds from a Dockerfile, which needs Cloud Build: the local builder builds Node projects only'
            : 'there is no package.json here: the local builder builds Node projects only';
          say(reason);
          throw new StepFailure(reason);
        }
        const lock = existsSync(join(appDir, 'package-lock.json'));
        await this.exec(running, label, appDir, 'npm', [
          lock ? 'ci' : 'install',
          '--no-audit',
          '--no-fund',
        ]);
        return;
      }
      case 'build': {
        const settings = await readSettings(appDir);
        if (settings.build) {
          await this.exec(running, label, appDir, 'sh', ['-c', settings.build]);
          return;
        }
        const manifest = JSON.parse(
          await readFile(join(appDir, 'package.json'), 'utf8'),
        ) as { scripts?: Record<string, string> };
        if (manifest.scripts?.build) {
          await this.exec(running, label, appDir, 'npm', ['run', 'build']);
        } else {
          say('package.json has no build script; nothing to build.');
        }
        return;
      }
      case 'bridge': {
        const server = await resolveServer(plan, appDir);
        await writeFile(
          join(workDir, RUN_FILE),
          JSON.stringify(server, null, 2),
        );
        say(
          server.transport === 'stdio'
            ? `stdio server: ${server.command.join(' ')} (served over Streamable HTTP by supergateway, one process per session)`
            : `HTTP server: ${server.command.join(' ')} (listens on $PORT, MCP at ${server.path})`,
        );
        return;
      }
    }
  }

  // Runs one command of a step in its own process group, every line of its
  // output published as the step's log. No shell unless the repository's
  // own sigyl.json asked for a command line.
  private exec(
    running: RunningBuild,
    label: string,
    cwd: string,
    command: string,
    args: string[],
  ): Promise<void> {
    const say = (text: string) =>
      running.logs.add(text, { labels: { build_step: label } });
    return new Promise((resolve, reject) => {
      if (running.stopReason) {
        reject(new StepFailure('stopped'));
        return;
      }
      const child = spawn(command, args, {
        cwd,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: buildEnvironment(),
      });
      running.child = child;
      const out = lineSplitter(say);
      const err = lineSplitter(say);
      child.stdout.on('data', (data: Buffer) => out.write(data));
      child.stderr.on('data', (data: Buffer) => err.write(data));
      child.once('error', (error) => {
        reject(new StepFailure(`${command} could not start: ${error.message}`));
      });
      child.once('close', (code, signal) => {
        out.end();
        err.end();
        running.child = null;
        if (code === 0) resolve();
        else if (signal)
          reject(new StepFailure(`${command} was stopped (${signal})`));
        else
          reject(new StepFailure(`step exited with non-zero status: ${code}`));
      });
    });
  }

  private async publishStatus(running: RunningBuild) {
    const { build } = running;
    await publishJson(TOPICS.cloudBuilds, build, {
      buildId: build.id,
      status: build.status,
    });
  }
}

export function appDirectory(plan: BuildPlan, workDir: string): string {
  if (plan.source.type === 'npm') return join(workDir, 'app');
  return join(workDir, 'source', plan.source.subdirectory ?? '');
}

async function readSettings(appDir: string): Promise<{ build?: string }> {
  try {
    return JSON.parse(await readFile(join(appDir, 'sigyl.json'), 'utf8'));
  } catch {
    return {};
  }
}

// A branch, tag or commit, as the clone knows it.
async function resolveRef(
  dir: string,
  ref: string | undefined,
): Promise<string> {
  const candidates = ref ? [`origin/${ref}`, ref] : ['HEAD', 'origin/HEAD'];
  for (const candidate of candidates) {
    const sha = await gitRevParse(dir, `${candidate}^{commit}`);
    if (sha) return sha;
  }
  throw new StepFailure(`the ref "${ref}" does not exist in the repository`);
}

function gitRevParse(dir: string, rev: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('git', ['rev-parse', '--verify', '--quiet', rev], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (data: Buffer) => (out += data.toString()));
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code === 0 ? out.trim() : null));
  });
}

// Builds see a plain environment: never Sigyl's own settings or credentials.
function buildEnvironment(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TERM', 'TMPDIR', 'npm_config_cache'];
  const env: NodeJS.ProcessEnv = { CI: 'true', NODE_ENV: 'development' };
  for (const name of keep) {
    if (process.env[name]) env[name] = process.env[name];
  }
  return env;
}

function killGroup(child: ChildProcess | null) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const pid = child.pid;
  setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, 3000).unref();
}
