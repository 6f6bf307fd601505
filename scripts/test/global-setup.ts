import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmulators } from '../stack/emulators.ts';
import { freePort } from '../stack/processes.ts';

// Starts one set of emulators for the whole run, on free ports. Each test
// file works in a project of its own (see functions/test/env.ts), so files
// never see each other's documents, topics or users.
export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sigyl-test-'));
  const projectId = `demo-sigyl-test-${process.pid}`;
  const start = async () =>
    startEmulators({
      projectId,
      firestorePort: await freePort(),
      pubsubPort: await freePort(),
      authPort: await freePort(),
      singleProject: false,
      configDir: dataDir,
    });
  // A free port can be taken by another process before an emulator binds
  // it; choosing again fixes that.
  const emulators = await start().catch(start).catch(start);
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = emulators.authHost;
  project.provide('emulators', {
    projectId,
    firestoreHost: emulators.firestoreHost,
    pubsubHost: emulators.pubsubHost,
    authHost: emulators.authHost,
  });
  return async () => {
    await emulators.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: {
      projectId: string;
      firestoreHost: string;
      pubsubHost: string;
      authHost: string;
    };
  }
}
