import { join } from 'node:path';
import { CloudBuildBuilder } from './builders/cloudBuild.ts';
import { LocalBuilder } from './builders/local.ts';
import { config } from './config.ts';
import { CloudRunRunner } from './runners/cloudRun.ts';
import { LocalRunner } from './runners/local.ts';
import type { Builder, Runner } from './seams.ts';

// The seams, chosen once per process from SIGYL_MODE: Cloud Build and Cloud
// Run in Google Cloud, child processes locally.
let builderInstance: Builder | null = null;
let runnerInstance: Runner | null = null;

export function builder(): Builder {
  builderInstance ??=
    config().mode === 'cloud'
      ? new CloudBuildBuilder(config())
      : new LocalBuilder(join(config().home, 'work'));
  return builderInstance;
}

export function runner(): Runner {
  runnerInstance ??=
    config().mode === 'cloud'
      ? new CloudRunRunner(config())
      : new LocalRunner(join(config().home, 'work'));
  return runnerInstance;
}

// Tests point the cloud adapters at local stand-ins of the services.
export function useAdapters(next: { builder?: Builder; runner?: Runner }) {
  if (next.builder) builderInstance = next.builder;
  if (next.runner) runnerInstance = next.runner;
}
