import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestEnvironment,
} from '@firebase/rules-unit-testing';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setLogLevel } from 'firebase/firestore';
import { afterAll, beforeAll, beforeEach, describe, inject, it } from 'vitest';

const OWNER = 'alice';
const OTHER = 'bob';

let env: RulesTestEnvironment;

// Every refused write would otherwise print a warning.
setLogLevel('silent');

beforeAll(async () => {
  const [host, port] = inject('emulators').firestoreHost.split(':');
  env = await initializeTestEnvironment({
    projectId: `demo-rules-${randomBytes(4).toString('hex')}`,
    firestore: {
      host,
      port: Number(port),
      rules: readFileSync('firestore.rules', 'utf8'),
    },
  });
});

afterAll(async () => {
  await env.cleanup();
});

beforeEach(async () => {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (context) => {
    const db = context.firestore();
    await db.doc('packages/private1').set(packageDoc('private'));
    await db.doc('packages/public1').set(packageDoc('public'));
    await db.doc('deployments/dep1').set({
      packageId: 'private1',
      ownerId: OWNER,
      status: 'building',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    await db.doc('deployments/dep1/logs/chunk1').set({
      lines: [{ id: 'l1', ts: '2026-01-01T00:00:00.000000000Z', text: 'hi' }],
      writtenAt: new Date(),
    });
    await db.doc('idempotencyKeys/k1').set({ ownerId: OWNER });
  });
});

function packageDoc(visibility: 'private' | 'public') {
  return {
    ownerId: OWNER,
    name: 'weather',
    slug: 'weather',
    description: 'Forecasts',
    visibility,
    serviceName: 'mcp-weather-alice',
    url: null,
  };
}

const owner = () => env.authenticatedContext(OWNER).firestore();
const other = () => env.authenticatedContext(OTHER).firestore();
const signedOut = () => env.unauthenticatedContext().firestore();

describe('packages', () => {
  it('lets the owner read a private package', async () => {
    await assertSucceeds(owner().doc('packages/private1').get());
  });

  it('hides a private package from other users and signed-out readers', async () => {
    await assertFails(other().doc('packages/private1').get());
    await assertFails(signedOut().doc('packages/private1').get());
  });

  it('lets anyone read a public package', async () => {
    await assertSucceeds(owner().doc('packages/public1').get());
    await assertSucceeds(other().doc('packages/public1').get());
    await assertSucceeds(signedOut().doc('packages/public1').get());
  });

  it('lets the owner list their packages, and nobody else', async () => {
    const mine = (db: ReturnType<typeof owner>) =>
      db.collection('packages').where('ownerId', '==', OWNER).get();
    await assertSucceeds(mine(owner()));
    await assertFails(mine(other()));
    await assertFails(mine(signedOut()));
  });

  it('lets signed-out readers list public packages', async () => {
    await assertSucceeds(
      signedOut()
        .collection('packages')
        .where('visibility', '==', 'public')
        .get(),
    );
  });

  it('lets the owner edit name, description and visibility', async () => {
    await assertSucceeds(
      owner()
        .doc('packages/private1')
        .update({
          name: 'Weather now',
          description: 'x'.repeat(500),
          visibility: 'public',
        }),
    );
    await assertSucceeds(
      owner()
        .doc('packages/private1')
        .update({ name: 'x'.repeat(80) }),
    );
  });

  it('refuses edits from other users and signed-out readers', async () => {
    await assertFails(
      other().doc('packages/public1').update({ name: 'mine now' }),
    );
    await assertFails(
      signedOut().doc('packages/public1').update({ name: 'mine now' }),
    );
  });

  it('refuses owner edits to any other field', async () => {
    const ref = owner().doc('packages/private1');
    await assertFails(ref.update({ ownerId: OTHER }));
    await assertFails(ref.update({ slug: 'other' }));
    await assertFails(ref.update({ serviceName: 'mcp-evil' }));
    await assertFails(ref.update({ url: 'https://evil.example' }));
    await assertFails(ref.update({ name: 'ok', liveDeploymentId: 'dep1' }));
  });

  it('refuses names, descriptions and visibilities of the wrong type or size', async () => {
    const ref = owner().doc('packages/private1');
    await assertFails(ref.update({ name: '' }));
    await assertFails(ref.update({ name: 'x'.repeat(81) }));
    await assertFails(ref.update({ name: 42 }));
    await assertFails(ref.update({ description: 'x'.repeat(501) }));
    await assertFails(ref.update({ description: null }));
    await assertFails(ref.update({ visibility: 'secret' }));
  });

  it('refuses creating and deleting packages from a client', async () => {
    await assertFails(
      owner()
        .doc('packages/new1')
        .set({ ...packageDoc('private') }),
    );
    await assertFails(owner().doc('packages/private1').delete());
    await assertFails(other().doc('packages/public1').delete());
  });
});

describe('deployments', () => {
  it('lets only the owner read a deployment', async () => {
    await assertSucceeds(owner().doc('deployments/dep1').get());
    await assertFails(other().doc('deployments/dep1').get());
    await assertFails(signedOut().doc('deployments/dep1').get());
  });

  it("lets the owner list a package's history, and nobody else", async () => {
    const history = (db: ReturnType<typeof owner>) =>
      db
        .collection('deployments')
        .where('packageId', '==', 'private1')
        .where('ownerId', '==', OWNER)
        .orderBy('createdAt', 'desc')
        .get();
    await assertSucceeds(history(owner()));
    await assertFails(history(other()));
    await assertFails(history(signedOut()));
  });

  it('refuses every client write, even from the owner', async () => {
    const ref = owner().doc('deployments/dep1');
    await assertFails(ref.update({ status: 'live' }));
    await assertFails(ref.delete());
    await assertFails(
      owner().doc('deployments/dep2').set({ ownerId: OWNER, status: 'queued' }),
    );
    await assertFails(
      other().doc('deployments/dep1').update({ status: 'live' }),
    );
  });
});

describe('log chunks', () => {
  it('lets only the owner of the deployment read its logs', async () => {
    await assertSucceeds(owner().doc('deployments/dep1/logs/chunk1').get());
    await assertFails(other().doc('deployments/dep1/logs/chunk1').get());
    await assertFails(signedOut().doc('deployments/dep1/logs/chunk1').get());
  });

  it('lets the owner stream the logs by writtenAt, and nobody else', async () => {
    const stream = (db: ReturnType<typeof owner>) =>
      db.collection('deployments/dep1/logs').orderBy('writtenAt').get();
    await assertSucceeds(stream(owner()));
    await assertFails(stream(other()));
    await assertFails(stream(signedOut()));
  });

  it('refuses every client write, even from the owner', async () => {
    await assertFails(
      owner()
        .doc('deployments/dep1/logs/chunk2')
        .set({ lines: [], writtenAt: new Date() }),
    );
    await assertFails(owner().doc('deployments/dep1/logs/chunk1').delete());
  });
});

describe('everything else', () => {
  it('is closed to clients', async () => {
    await assertFails(owner().doc('idempotencyKeys/k1').get());
    await assertFails(
      owner().doc('idempotencyKeys/k2').set({ ownerId: OWNER }),
    );
    await assertFails(signedOut().doc('anything/else').get());
  });
});
