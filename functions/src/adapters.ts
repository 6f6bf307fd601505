import { join } from 'node:path';
import { config } from './config.ts';
import { LocalBuilder } from './builders/local.ts';
import { LocalRunner } from './runners/local.ts';
import type { Builder, Runner } from './seams.ts';

// The seams are chosen once per process, from SIGYL_MODE. Cloud mode installs
// its adapters with useAdapters() at start (see index.ts).
let builderInstance: Builder | null = null;
let runnerInstance: Runner | null = null;

export function builder(): Builder {
  builderInstance ??= new LocalBuilder(join(config().home, 'work'));
  return builderInstance;
}

export function runner(): Runner {
  runnerInstance ??= new LocalRunner(join(config().home, 'work'));
  return runnerInstance;
}

export function useAdapters(next: { builder?: Builder; runner?: Runner }) {
  if (next.builder) builderInstance = next.builder;
  if (next.runner) runnerInstance = next.runner;
}
