import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { config } from './config.ts';
import type { SecretStore } from './seams.ts';
import { SecretManagerStore } from './secretManager.ts';

// Locally, a deployment's secrets live in a file only its owner (the user
// running Sigyl) can read, never in Firestore.
export class LocalSecretStore implements SecretStore {
  constructor(private readonly dir: string) {}

  async put(deploymentId: string, secrets: Record<string, string>) {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(this.file(deploymentId), JSON.stringify(secrets), {
      mode: 0o600,
    });
  }

  async get(deploymentId: string): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.file(deploymentId), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  private file(deploymentId: string) {
    if (!/^[a-z0-9]+$/.test(deploymentId)) {
      throw new Error(`invalid deployment id: ${deploymentId}`);
    }
    return join(this.dir, `${deploymentId}.json`);
  }
}

let store: SecretStore | null = null;
export function secretStore(): SecretStore {
  store ??=
    config().mode === 'cloud'
      ? new SecretManagerStore(config())
      : new LocalSecretStore(join(config().home, 'secrets'));
  return store;
}
// Tests point the Secret Manager store at a local stand-in.
export function setSecretStore(next: SecretStore) {
  store = next;
}
