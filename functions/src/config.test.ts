import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('configuration', () => {
  const cloud = {
    SIGYL_MODE: 'cloud',
    SIGYL_PROJECT_ID: 'acme',
    SIGYL_REGION: 'europe-west1',
    SIGYL_ARTIFACT_REPOSITORY: 'servers',
    SIGYL_BUILD_SERVICE_ACCOUNT: 'build@acme.iam.gserviceaccount.com',
    SIGYL_RUNTIME_SERVICE_ACCOUNT: 'runtime@acme.iam.gserviceaccount.com',
    SIGYL_SOURCE_BUCKET: 'acme-sources',
  };

  it('reads every cloud setting', () => {
    expect(loadConfig(cloud).cloud).toEqual({
      region: 'europe-west1',
      artifactRepository: 'servers',
      buildServiceAccount: 'build@acme.iam.gserviceaccount.com',
      runtimeServiceAccount: 'runtime@acme.iam.gserviceaccount.com',
      sourceBucket: 'acme-sources',
    });
  });

  it('names a missing cloud setting', () => {
    for (const name of Object.keys(cloud).filter((n) => n !== 'SIGYL_MODE')) {
      const env: Record<string, string> = { ...cloud };
      delete env[name];
      expect(() => loadConfig(env), name).toThrow(
        name === 'SIGYL_PROJECT_ID' ? 'SIGYL_PROJECT_ID' : name,
      );
    }
  });

  it('refuses an unknown mode', () => {
    expect(() => loadConfig({ ...cloud, SIGYL_MODE: 'staging' })).toThrow(
      'SIGYL_MODE',
    );
  });
});
