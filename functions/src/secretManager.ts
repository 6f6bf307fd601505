import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { CloudConfig, Config } from './config.ts';
import type { SecretStore } from './seams.ts';

const ALREADY_EXISTS = 6;
const DEPLOYMENT_LABEL = 'sigyl-deployment';

// The Secret Manager secret that holds one of a deployment's secrets. Cloud
// Run and Cloud Build refer to it by this id; only the values live there.
export function secretIdFor(deploymentId: string, name: string) {
  return `sigyl-${deploymentId}-${name}`;
}

// In Google Cloud a deployment's secrets are Secret Manager secrets, one per
// name, readable by the runtime service account and nobody else we create.
export class SecretManagerStore implements SecretStore {
  private readonly cloud: CloudConfig;

  constructor(
    private readonly config: Config,
    private readonly client = new SecretManagerServiceClient(),
  ) {
    if (!config.cloud) {
      throw new Error('SecretManagerStore needs cloud mode settings');
    }
    this.cloud = config.cloud;
  }

  async put(deploymentId: string, secrets: Record<string, string>) {
    for (const [name, value] of Object.entries(secrets)) {
      const secretId = secretIdFor(deploymentId, name);
      const secretName = `${this.parent()}/secrets/${secretId}`;
      try {
        await this.client.createSecret({
          parent: this.parent(),
          secretId,
          secret: {
            replication: { automatic: {} },
            labels: { [DEPLOYMENT_LABEL]: deploymentId },
          },
        });
      } catch (error) {
        // A retried request created it already.
        if ((error as { code?: number }).code !== ALREADY_EXISTS) {
          throw new Error(
            `Secret Manager could not create ${secretId}: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      }
      await this.client.addSecretVersion({
        parent: secretName,
        payload: { data: Buffer.from(value, 'utf8') },
      });
      // Servers run as the runtime account; it may read its own secrets only.
      await this.client.setIamPolicy({
        resource: secretName,
        policy: {
          bindings: [
            {
              role: 'roles/secretmanager.secretAccessor',
              members: [`serviceAccount:${this.cloud.runtimeServiceAccount}`],
            },
          ],
        },
      });
    }
  }

  async get(deploymentId: string): Promise<Record<string, string>> {
    const prefix = secretIdFor(deploymentId, '');
    const secrets: Record<string, string> = {};
    const found = this.client.listSecretsAsync(
      {
        parent: this.parent(),
        filter: `labels.${DEPLOYMENT_LABEL}=${deploymentId}`,
      },
      // The iterator follows page tokens itself.
      { autoPaginate: false },
    );
    for await (const secret of found) {
      const secretId = (secret.name ?? '').split('/').pop() ?? '';
      if (!secretId.startsWith(prefix)) continue;
      const [version] = await this.client.accessSecretVersion({
        name: `${secret.name}/versions/latest`,
      });
      const data = version.payload?.data;
      secrets[secretId.slice(prefix.length)] =
        typeof data === 'string'
          ? data
          : Buffer.from(data ?? []).toString('utf8');
    }
    return secrets;
  }

  private parent() {
    return `projects/${this.config.projectId}`;
  }
}
