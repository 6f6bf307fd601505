import { CloudBuildClient, protos } from '@google-cloud/cloudbuild';
import type { Source } from '@sigyl/types';
import type { CloudConfig, Config } from '../config.ts';
import { log } from '../log.ts';
import { buildTags } from './build.ts';
import { secretIdFor } from '../secretManager.ts';
import type { BuildPlan, BuildStepId, Builder } from '../seams.ts';

type Build = protos.google.devtools.cloudbuild.v1.IBuild;
type BuildStep = protos.google.devtools.cloudbuild.v1.IBuildStep;

const NODE_IMAGE = 'node:20';
const GIT_IMAGE = 'gcr.io/cloud-builders/git';
const DOCKER_IMAGE = 'gcr.io/cloud-builders/docker';
const BRIDGE_PACKAGE = 'supergateway@4';

// Builds a deployment's image with Cloud Build and pushes it to Artifact
// Registry. Status arrives on `cloud-builds`; log lines reach Cloud Logging.
export class CloudBuildBuilder implements Builder {
  private readonly cloud: CloudConfig;

  constructor(
    private readonly config: Config,
    private readonly client = new CloudBuildClient(),
  ) {
    if (!config.cloud) {
      throw new Error('CloudBuildBuilder needs cloud mode settings');
    }
    this.cloud = config.cloud;
  }

  async start(plan: BuildPlan): Promise<{ buildId: string }> {
    const build = buildFor(plan, this.config.projectId, this.cloud);

    let operation;
    try {
      [operation] = await this.client.createBuild({
        parent: this.location(),
        projectId: this.config.projectId,
        build,
      });
    } catch (error) {
      throw new Error(
        `Cloud Build refused the build for deployment ${plan.deploymentId}: ${serviceMessage(error)}`,
        { cause: error },
      );
    }

    const metadata =
      operation.metadata as protos.google.devtools.cloudbuild.v1.IBuildOperationMetadata | null;
    const buildId = metadata?.build?.id;
    if (!buildId) {
      throw new Error(
        `Cloud Build returned no build id for deployment ${plan.deploymentId} (operation ${operation.name})`,
      );
    }
    log('INFO', 'build created', { deploymentId: plan.deploymentId, buildId });
    return { buildId };
  }

  async cancel(buildId: string): Promise<void> {
    try {
      await this.client.cancelBuild({
        name: `${this.location()}/builds/${buildId}`,
        projectId: this.config.projectId,
        id: buildId,
      });
    } catch (error) {
      throw new Error(
        `Cloud Build could not cancel build ${buildId}: ${serviceMessage(error)}`,
        { cause: error },
      );
    }
  }

  private location() {
    return `projects/${this.config.projectId}/locations/${this.cloud.region}`;
  }
}

// Where the builder pushes a deployment's image and the runner finds it.
export function imageName(
  projectId: string,
  cloud: CloudConfig,
  serviceName: string,
  deploymentId: string,
) {
  return `${cloud.region}-docker.pkg.dev/${projectId}/${cloud.artifactRepository}/${serviceName}:${deploymentId}`;
}

// The createBuild request for a plan. Request values (URL, ref, spec, run
// arguments) travel as step arguments or environment variables; the scripts
// are constants that read them.
export function buildFor(
  plan: BuildPlan,
  projectId: string,
  cloud: CloudConfig,
): Build {
  const { source } = plan;
  if (source.type === 'git') {
    throw new Error(
      `Deployment ${plan.deploymentId}: a git repository on disk can only be built in local mode`,
    );
  }
  const image = imageName(
    projectId,
    cloud,
    plan.serviceName,
    plan.deploymentId,
  );
  const appDir = appDirFor(source);
  const secretEnv = plan.buildSecretNames;

  const steps = plan.steps
    .map(({ id }) => stepFor(id, source, appDir, secretEnv))
    .filter((step): step is BuildStep => step !== null);
  steps.push({
    id: 'image',
    name: DOCKER_IMAGE,
    dir: appDir,
    entrypoint: 'bash',
    args: ['-c', BUILD_IMAGE_SCRIPT],
    env: [
      `IMAGE=${image}`,
      `RUN_JSON=${JSON.stringify(runFileFor(plan))}`,
      `LAUNCHER=${LAUNCHER_SOURCE}`,
      `NODE_DOCKERFILE=${NODE_DOCKERFILE}`,
    ],
  });

  return {
    steps: steps.map(literalStep),
    images: [image],
    tags: [...buildTags(plan.deploymentId), `sigyl-package-${plan.packageId}`],
    timeout: { seconds: plan.timeoutSeconds },
    serviceAccount: serviceAccountName(projectId, cloud.buildServiceAccount),
    options: { logging: 'CLOUD_LOGGING_ONLY' },
    ...(secretEnv.length > 0
      ? {
          availableSecrets: {
            secretManager: secretEnv.map((name) => ({
              versionName: `projects/${projectId}/secrets/${secretIdFor(plan.deploymentId, name)}/versions/latest`,
              env: name,
            })),
          },
        }
      : {}),
  };
}

function stepFor(
  id: BuildStepId,
  source: Exclude<Source, { type: 'git' }>,
  appDir: string,
  secretEnv: string[],
): BuildStep | null {
  const withSecrets = secretEnv.length > 0 ? { secretEnv } : {};
  if (source.type === 'npm') {
    switch (id) {
      case 'fetch-source':
        return {
          id,
          name: NODE_IMAGE,
          entrypoint: 'npm',
          args: ['view', '--', source.spec, 'name', 'version'],
        };
      case 'install':
        return {
          id,
          name: NODE_IMAGE,
          entrypoint: 'npm',
          args: [
            'install',
            '--prefix',
            `/workspace/${appDir}`,
            '--omit=dev',
            '--no-audit',
            '--no-fund',
            '--',
            source.spec,
          ],
          ...withSecrets,
        };
      case 'build':
        return null;
      case 'bridge':
        return bridgeStep(appDir);
    }
  }
  switch (id) {
    case 'fetch-source':
      return {
        id,
        name: GIT_IMAGE,
        entrypoint: 'bash',
        args: ['-c', FETCH_REPOSITORY_SCRIPT],
        env: [`SOURCE_URL=${source.url}`, `SOURCE_REF=${source.ref || 'HEAD'}`],
      };
    case 'install':
      return {
        id,
        name: NODE_IMAGE,
        dir: appDir,
        entrypoint: 'bash',
        args: ['-c', INSTALL_SCRIPT],
        ...withSecrets,
      };
    case 'build':
      return {
        id,
        name: NODE_IMAGE,
        dir: appDir,
        entrypoint: 'bash',
        args: ['-c', BUILD_SCRIPT],
        ...withSecrets,
      };
    case 'bridge':
      return bridgeStep(appDir);
  }
}

function bridgeStep(appDir: string): BuildStep {
  return {
    id: 'bridge',
    name: NODE_IMAGE,
    dir: appDir,
    entrypoint: 'bash',
    args: ['-c', BRIDGE_SCRIPT],
    env: [`BRIDGE_PACKAGE=${BRIDGE_PACKAGE}`],
  };
}

// Step directories are relative to /workspace, the one folder that every
// step shares.
function appDirFor(source: Exclude<Source, { type: 'git' }>) {
  if (source.type === 'npm') return 'app';
  const subdirectory = (source.subdirectory ?? '').replace(/^\/+|\/+$/g, '');
  if (subdirectory.split('/').some((part) => part === '..')) {
    throw new Error(
      `subdirectory must stay inside the repository: ${subdirectory}`,
    );
  }
  return subdirectory ? `src/${subdirectory}` : 'src';
}

// What the launcher in the image needs to start the server.
function runFileFor(plan: BuildPlan) {
  if (plan.source.type === 'npm') {
    return {
      source: 'npm',
      packageName: npmPackageName(plan.source.spec),
      run: plan.run ?? {},
    };
  }
  return { source: 'repository', run: plan.run ?? {} };
}

// `@scope/name@^1.2` -> `@scope/name`; `name@latest` -> `name`.
export function npmPackageName(spec: string) {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  return at === -1 ? spec : spec.slice(0, at);
}

function serviceAccountName(projectId: string, account: string) {
  return account.startsWith('projects/')
    ? account
    : `projects/${projectId}/serviceAccounts/${account}`;
}

// Cloud Build expands $NAME and ${NAME} in every string of a step, and fails
// the build on names it does not know; $$ stands for a literal $.
function literalStep(step: BuildStep): BuildStep {
  // A replacer function: in a replacement string '$$' would mean one '$'.
  const literal = (value: string) => value.replaceAll('$', () => '$$');
  return {
    ...step,
    ...(step.args ? { args: step.args.map(literal) } : {}),
    ...(step.env ? { env: step.env.map(literal) } : {}),
    ...(step.dir ? { dir: literal(step.dir) } : {}),
  };
}

// A gRPC error's own message without the numeric prefix google-gax adds.
export function serviceMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\d+ [A-Z_]+: /, '');
}

// The scripts below are constants: anything from the request reaches them
// through environment variables, never through the script text.

const FETCH_REPOSITORY_SCRIPT = `set -euo pipefail
git init -q /workspace/src
cd /workspace/src
git fetch -q --depth 1 "$SOURCE_URL" "$SOURCE_REF"
git checkout -q FETCH_HEAD
echo "Fetched $(git rev-parse HEAD)"`;

const INSTALL_SCRIPT = `set -euo pipefail
if [ ! -f package.json ]; then
  echo "No package.json here: the image will come from the repository's Dockerfile."
  exit 0
fi
if [ -f package-lock.json ]; then npm ci; else npm install --no-audit --no-fund; fi`;

// sigyl.json's build command is the repository author's own, like an npm
// script, so it runs through a shell.
const BUILD_SCRIPT = `set -euo pipefail
[ -f package.json ] || exit 0
command=$(node -p 'try { require("./sigyl.json").build ?? "" } catch { "" }')
if [ -n "$command" ]; then sh -c "$command"; else npm run build --if-present; fi`;

const BRIDGE_SCRIPT = `set -euo pipefail
[ -f package.json ] || exit 0
npm install --prefix .sigyl/bridge --no-audit --no-fund "$BRIDGE_PACKAGE"`;

// A Node project gets the generated Dockerfile and the launcher; anything
// else needs a Dockerfile of its own.
const BUILD_IMAGE_SCRIPT = `set -euo pipefail
if [ -f package.json ]; then
  mkdir -p .sigyl
  printf '%s' "$LAUNCHER" > .sigyl/launch.mjs
  printf '%s' "$RUN_JSON" > .sigyl/run.json
  printf '%s' "$NODE_DOCKERFILE" > /workspace/Dockerfile.sigyl
  printf '.git\\n' > .dockerignore
elif [ -f Dockerfile ]; then
  cp Dockerfile /workspace/Dockerfile.sigyl
else
  echo "Found neither a package.json nor a Dockerfile to build." >&2
  exit 1
fi
docker build --file /workspace/Dockerfile.sigyl --tag "$IMAGE" .`;

// The install and build steps already ran in node:20, so the image only
// copies the result; node:20-slim shares its Debian release.
const NODE_DOCKERFILE = `FROM node:20-slim
WORKDIR /app
COPY . .
ENV NODE_ENV=production
CMD ["node", "/app/.sigyl/launch.mjs"]
`;

// Starts the server inside the image. A stdio server runs behind the bridge,
// which starts this launcher again with --child for each session; the
// bridge's command is a constant, and run arguments reach the server as
// process arguments, never through a shell.
export const LAUNCHER_SOURCE = `import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('..', import.meta.url));
const readJson = (path) =>
  existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
const fail = (message) => {
  console.error(message);
  process.exit(1);
};

const requested = readJson(join(app, '.sigyl', 'run.json'));
const isNpm = requested.source === 'npm';
const repository = isNpm ? {} : readJson(join(app, 'sigyl.json'));
const run = { ...repository, ...requested.run };
const args = run.args ?? [];
const transport = run.transport ?? (isNpm ? 'stdio' : 'http');

function server() {
  if (isNpm) {
    const modules = join(app, 'node_modules');
    const manifest = readJson(join(modules, requested.packageName, 'package.json'));
    const shortName = String(manifest.name ?? '').split('/').pop();
    const bins = typeof manifest.bin === 'string' ? { [shortName]: manifest.bin } : manifest.bin ?? {};
    const names = Object.keys(bins);
    const bin = names.includes(shortName) ? shortName : names[0];
    if (!bin) fail(\`\${requested.packageName} has no binary to run\`);
    return [join(modules, '.bin', bin), args];
  }
  if (repository.start) return ['sh', ['-c', \`\${repository.start} "$@"\`, 'sh', ...args]];
  return ['npm', ['start', '--', ...args]];
}

function start(command, commandArgs) {
  const child = spawn(command, commandArgs, { stdio: 'inherit', cwd: app });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (error) => fail(\`Cannot start \${command}: \${error.message}\`));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const [command, commandArgs] = server();
if (transport === 'stdio' && !process.argv.includes('--child')) {
  const bridge = join(app, '.sigyl', 'bridge', 'node_modules', '.bin', 'supergateway');
  if (!existsSync(bridge)) fail('This image has no stdio bridge.');
  const self = JSON.stringify(fileURLToPath(import.meta.url));
  start(bridge, [
    '--stdio', \`node \${self} --child\`,
    '--outputTransport', 'streamableHttp', '--stateful',
    '--port', process.env.PORT ?? '8080',
    '--healthEndpoint', '/healthz',
  ]);
} else {
  start(command, commandArgs);
}
`;
