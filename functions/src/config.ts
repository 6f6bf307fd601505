import { resolve } from 'node:path';

// Everything the functions read from their environment. Terraform sets these
// in Google Cloud; `npm start` and the tests set them locally.
export type Config = {
  projectId: string;
  // The project whose Firebase Auth signs users' ID tokens; the same
  // project unless set apart.
  authProjectId: string;
  mode: 'local' | 'cloud';
  // Local mode: where work folders, secrets and server state live.
  home: string;
  webOrigin: string;
  deploymentTimeoutMinutes: number;
  logRetentionDays: number;
  cloud: CloudConfig | null;
};

export type CloudConfig = {
  region: string;
  artifactRepository: string;
  buildServiceAccount: string;
  runtimeServiceAccount: string;
  sourceBucket: string;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const mode = env.SIGYL_MODE ?? 'local';
  if (mode !== 'local' && mode !== 'cloud') {
    throw new Error(`SIGYL_MODE must be "local" or "cloud", not "${mode}"`);
  }
  const projectId = env.SIGYL_PROJECT_ID ?? env.GCLOUD_PROJECT;
  if (!projectId) throw new Error('SIGYL_PROJECT_ID is not set');
  return {
    projectId,
    authProjectId: env.SIGYL_AUTH_PROJECT_ID ?? projectId,
    mode,
    home: resolve(env.SIGYL_HOME ?? '.sigyl'),
    webOrigin: env.SIGYL_WEB_ORIGIN ?? 'http://127.0.0.1:5173',
    deploymentTimeoutMinutes: Number(
      env.SIGYL_DEPLOYMENT_TIMEOUT_MINUTES ?? 30,
    ),
    logRetentionDays: Number(env.SIGYL_LOG_RETENTION_DAYS ?? 30),
    cloud: mode === 'cloud' ? loadCloudConfig(env) : null,
  };
}

function loadCloudConfig(env: NodeJS.ProcessEnv): CloudConfig {
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set (needed in cloud mode)`);
    return value;
  };
  return {
    region: need('SIGYL_REGION'),
    artifactRepository: need('SIGYL_ARTIFACT_REPOSITORY'),
    buildServiceAccount: need('SIGYL_BUILD_SERVICE_ACCOUNT'),
    runtimeServiceAccount: need('SIGYL_RUNTIME_SERVICE_ACCOUNT'),
    sourceBucket: need('SIGYL_SOURCE_BUCKET'),
  };
}

let cached: Config | null = null;
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
// Tests that change the environment call this to read it again.
export function resetConfig() {
  cached = null;
}
