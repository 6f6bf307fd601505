import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSecretManagerStandin,
  type SecretManagerStandin,
} from '../test/standins/secretManager.ts';
import { cloudTestConfig } from '../test/standins/config.ts';
import { SecretManagerStore, secretIdFor } from './secretManager.ts';

const config = cloudTestConfig();

let standin: SecretManagerStandin;
let store: SecretManagerStore;

beforeAll(async () => {
  standin = await startSecretManagerStandin();
  store = new SecretManagerStore(config, standin.client());
});
afterAll(async () => {
  await standin.close();
});

describe('SecretManagerStore', () => {
  it("keeps each secret apart and gives them back by the deployment's id", async () => {
    await store.put('dep0000000000000001', {
      API_KEY: 'k-1',
      DB_PASSWORD: 'p w $1',
    });
    await store.put('dep0000000000000002', { API_KEY: 'other' });

    expect(await store.get('dep0000000000000001')).toEqual({
      API_KEY: 'k-1',
      DB_PASSWORD: 'p w $1',
    });
    expect(await store.get('dep0000000000000003')).toEqual({});
    expect([...standin.secrets.keys()]).toContain(
      `projects/demo-sigyl/secrets/${secretIdFor('dep0000000000000001', 'API_KEY')}`,
    );
  });

  it('lets only the runtime service account read a secret', async () => {
    await store.put('dep0000000000000004', { TOKEN: 't' });

    const secret = standin.secrets.get(
      `projects/demo-sigyl/secrets/${secretIdFor('dep0000000000000004', 'TOKEN')}`,
    );
    expect(secret?.policy).toEqual({
      bindings: [
        {
          role: 'roles/secretmanager.secretAccessor',
          members: [
            'serviceAccount:runtime@demo-sigyl.iam.gserviceaccount.com',
          ],
        },
      ],
    });
  });

  it('survives a retried put', async () => {
    await store.put('dep0000000000000005', { TOKEN: 'first' });
    await store.put('dep0000000000000005', { TOKEN: 'second' });

    expect(await store.get('dep0000000000000005')).toEqual({ TOKEN: 'second' });
  });
});
