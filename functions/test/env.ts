import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COLLECTIONS, type DeploymentDoc } from '@sigyl/types';
import { inject } from 'vitest';
import { resetConfig } from '../src/config.ts';
import { db } from '../src/firestore.ts';

// Gives the calling test file a project of its own on the shared emulators
// and a scratch SIGYL_HOME. Call at the top of a test file.
export function useTestProject(name = 'test'): string {
  const emulators = inject('emulators');
  const projectId = `demo-${name}-${randomBytes(4).toString('hex')}`;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = emulators.authHost;
  process.env.SIGYL_PROJECT_ID = projectId;
  // The Auth emulator signs every user into its own default project.
  process.env.SIGYL_AUTH_PROJECT_ID = emulators.projectId;
  process.env.SIGYL_MODE = 'local';
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.env.SIGYL_HOME = mkdtempSync(join(tmpdir(), 'sigyl-home-'));
  resetConfig();
  return projectId;
}

export function uniqueId(prefix = ''): string {
  return prefix + randomBytes(6).toString('hex');
}

// A user of the Auth emulator and an ID token for it.
export async function signUp(
  _projectId?: string,
  email = `${uniqueId('u')}@example.com`,
): Promise<{ uid: string; idToken: string }> {
  const { authHost } = inject('emulators');
  const response = await fetch(
    `http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email,
        password: 'password1',
        returnSecureToken: true,
      }),
    },
  );
  if (!response.ok) throw new Error(`signUp: ${await response.text()}`);
  const body = (await response.json()) as { localId: string; idToken: string };
  return { uid: body.localId, idToken: body.idToken };
}

// A deployment in its build step with nothing logged yet, owned by `owner`.
export async function seedBuildingDeployment(
  fields: Partial<DeploymentDoc> = {},
): Promise<string> {
  const id = uniqueId('d');
  const doc: Partial<DeploymentDoc> = {
    packageId: 'p',
    ownerId: 'owner',
    status: 'building',
    error: null,
    url: null,
    finishedAt: null,
    logStats: { lines: 0, omitted: 0, bytes: 0 },
    lastLineAt: null,
    ...fields,
  };
  await db().collection(COLLECTIONS.deployments).doc(id).set(doc);
  return id;
}
