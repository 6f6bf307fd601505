import { newDeploymentDoc, type DeploymentDoc } from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCloudRunStandin,
  type CloudRunStandin,
} from '../../test/standins/cloudRun.ts';
import { cloudTestConfig } from '../../test/standins/config.ts';
import type { RevisionInput } from '../seams.ts';
import { CloudRunRunner, RevisionNotReadyError, tagFor } from './cloudRun.ts';

const config = cloudTestConfig();
const SECRET_VALUE = 'sk-live-do-not-leak-4242';
const SERVICES = 'projects/demo-sigyl/locations/europe-west1/services';

function input(
  serviceName: string,
  deploymentId: string,
  deployment: Partial<DeploymentDoc> = {},
): RevisionInput {
  return {
    deploymentId,
    packageId: 'pkg0000000000001',
    serviceName,
    secrets: { API_KEY: SECRET_VALUE },
    deployment: newDeploymentDoc(
      {
        packageId: 'pkg0000000000001',
        ownerId: 'owner1',
        source: { type: 'npm', spec: '@acme/weather@1.0.0' },
        env: { UNITS: 'metric' },
        secretNames: ['API_KEY'],
        status: 'deploying',
        buildId: 'build-1',
        ...deployment,
      },
      '2026-01-01T00:00:00.000Z',
    ),
  };
}

type RecordedService = {
  name?: string;
  labels?: Record<string, string>;
  invokerIamDisabled?: boolean;
  template: {
    revision: string;
    labels: Record<string, string>;
    scaling: { minInstanceCount?: number; maxInstanceCount: number };
    serviceAccount: string;
    sessionAffinity?: boolean;
    containers: {
      image: string;
      ports: { containerPort: number }[];
      env: { name: string; value?: string; valueSource?: unknown }[];
    }[];
  };
  traffic: {
    type: string;
    revision?: string;
    percent?: number;
    tag?: string;
  }[];
};

let standin: CloudRunStandin;
let runner: CloudRunRunner;

beforeAll(async () => {
  standin = await startCloudRunStandin({
    url: ({ service, tag }) =>
      `http://127.0.0.1:9/${service.split('/').pop()}/${tag ?? 'main'}`,
    revisionFailure: (revision) =>
      revision.endsWith('broken00000000000001')
        ? 'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.'
        : null,
  });
  runner = new CloudRunRunner(config, standin.clients());
});
afterAll(async () => {
  await standin.close();
});

function recorded(method: string) {
  return standin.requests.filter((r) => r.method === method).at(-1)
    ?.request as {
    serviceId?: string;
    service: RecordedService;
  };
}

describe('CloudRunRunner', () => {
  it('creates the service with a tagged revision and returns the tag URL', async () => {
    const first = input('mcp-weather-1a2b3c4d', 'dep00000000000000001');

    const revision = await runner.deploy(first);

    expect(revision).toEqual({
      revision: 'mcp-weather-1a2b3c4d-dep00000000000000001',
      url: `http://127.0.0.1:9/mcp-weather-1a2b3c4d/${tagFor('mcp-weather-1a2b3c4d', 'dep00000000000000001')}`,
    });
    const request = recorded('CreateService');
    expect(request.serviceId).toBe('mcp-weather-1a2b3c4d');
    const { template } = request.service;
    expect(template.revision).toBe('mcp-weather-1a2b3c4d-dep00000000000000001');
    expect(template.labels['sigyl-deployment']).toBe('dep00000000000000001');
    expect(template.scaling.maxInstanceCount).toBeGreaterThan(0);
    expect(template.serviceAccount).toBe(
      'runtime@demo-sigyl.iam.gserviceaccount.com',
    );
    // An npm package runs over stdio behind the bridge: sessions need one instance.
    expect(template.sessionAffinity).toBe(true);
    const container = template.containers[0]!;
    expect(container.image).toBe(
      'europe-west1-docker.pkg.dev/demo-sigyl/mcp-images/mcp-weather-1a2b3c4d:dep00000000000000001',
    );
    expect(container.ports).toEqual([{ name: 'http1', containerPort: 8080 }]);
    expect(container.env).toEqual([
      { name: 'UNITS', value: 'metric' },
      {
        name: 'API_KEY',
        valueSource: {
          secretKeyRef: {
            secret: 'sigyl-dep00000000000000001-API_KEY',
            version: 'latest',
          },
        },
      },
    ]);
    expect(request.service.traffic).toEqual([
      {
        type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
        revision: 'mcp-weather-1a2b3c4d-dep00000000000000001',
        percent: 100,
        tag: tagFor('mcp-weather-1a2b3c4d', 'dep00000000000000001'),
      },
    ]);
    expect(request.service.invokerIamDisabled).toBe(true);
  });

  it('starts a new revision without traffic, then promotes it', async () => {
    const serviceName = 'mcp-notes-5e6f7a8b';
    await runner.deploy(input(serviceName, 'dep00000000000000010'));
    await runner.promote(input(serviceName, 'dep00000000000000010'), {
      revision: `${serviceName}-dep00000000000000010`,
      url: '',
    });
    const second = input(serviceName, 'dep00000000000000011', {
      run: { transport: 'http', port: 3000 },
    });

    const revision = await runner.deploy(second);

    const update = recorded('UpdateService').service;
    expect(update.template.sessionAffinity ?? false).toBe(false);
    expect(update.template.containers[0]!.ports).toEqual([
      { name: 'http1', containerPort: 3000 },
    ]);
    const newTag = tagFor(serviceName, 'dep00000000000000011');
    expect(update.traffic).toEqual([
      {
        type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
        revision: `${serviceName}-dep00000000000000010`,
        percent: 100,
        tag: tagFor(serviceName, 'dep00000000000000010'),
      },
      {
        type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
        revision: revision.revision,
        percent: 0,
        tag: newTag,
      },
    ]);
    expect(revision.url).toBe(`http://127.0.0.1:9/${serviceName}/${newTag}`);

    const { url } = await runner.promote(second, revision);

    expect(url).toBe(`http://127.0.0.1:9/${serviceName}/main`);
    const serving = standin.services.get(`${SERVICES}/${serviceName}`)!
      .trafficStatuses as {
      revision: string;
      percent?: number;
    }[];
    expect(serving.filter((target) => target.percent)).toEqual([
      expect.objectContaining({ revision: revision.revision, percent: 100 }),
    ]);
  });

  it('discards a revision by removing its tag and leaves traffic where it was', async () => {
    const serviceName = 'mcp-clock-9c0d1e2f';
    await runner.deploy(input(serviceName, 'dep00000000000000020'));
    const candidate = input(serviceName, 'dep00000000000000021');
    const revision = await runner.deploy(candidate);

    await runner.discard(candidate, revision);

    const traffic = recorded('UpdateService').service.traffic;
    expect(traffic).toEqual([
      expect.objectContaining({
        revision: `${serviceName}-dep00000000000000020`,
        percent: 100,
      }),
    ]);
  });

  it('reports a revision that does not become ready with its condition message', async () => {
    const failing = input('mcp-broken-3a4b5c6d', 'broken00000000000001');

    const error = await runner.deploy(failing).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RevisionNotReadyError);
    expect((error as Error).message).toBe(
      'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.',
    );
  });

  it('turns a quota error into a readable message', async () => {
    standin.failNext(
      'CreateService',
      8,
      "Quota exceeded for quota metric 'Services per region'.",
    );

    await expect(
      runner.deploy(input('mcp-quota-7e8f9a0b', 'dep00000000000000030')),
    ).rejects.toThrow(
      "Cloud Run quota exceeded while deploying mcp-quota-7e8f9a0b-dep00000000000000030: Quota exceeded for quota metric 'Services per region'.",
    );
  });

  it('fits the tag beside the longest service name', async () => {
    const serviceName = `mcp-${'a'.repeat(24)}-0a1b2c3d`;

    const revision = await runner.deploy(
      input(serviceName, 'dep00000000000000040'),
    );

    expect(revision.url).toContain(tagFor(serviceName, 'dep00000000000000040'));
  });

  it('never sends a secret value to Cloud Run', () => {
    expect(standin.requests.length).toBeGreaterThan(5);
    expect(JSON.stringify(standin.requests)).not.toContain(SECRET_VALUE);
  });
});
