import { RevisionsClient, ServicesClient, protos } from '@google-cloud/run';
import type { CloudConfig, Config } from '../config.ts';
import { imageName, serviceMessage } from '../builders/cloudBuild.ts';
import { revisionNameFor } from '../ids.ts';
import { log } from '../log.ts';
import { secretIdFor } from '../secretManager.ts';
import type { Revision, RevisionInput, Runner } from '../seams.ts';

type Service = protos.google.cloud.run.v2.IService;
type TrafficTarget = protos.google.cloud.run.v2.ITrafficTarget;

const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;
const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' as const;
const DEFAULT_PORT = 8080;
const MAX_INSTANCES = 5;
// MCP streams stay open; Cloud Run allows requests of up to an hour.
const REQUEST_TIMEOUT_SECONDS = 3600;
const NOT_FOUND = 5;
const RESOURCE_EXHAUSTED = 8;

// Serves a deployment's image on Cloud Run (Admin API v2). A new revision
// starts with no traffic and a tag of its own; verification reaches it at the
// tag's URL, and promote() moves all traffic to it.
export class CloudRunRunner implements Runner {
  private readonly cloud: CloudConfig;
  private readonly services: ServicesClient;
  private readonly revisions: RevisionsClient;

  constructor(
    private readonly config: Config,
    clients: { services?: ServicesClient; revisions?: RevisionsClient } = {},
  ) {
    if (!config.cloud) {
      throw new Error('CloudRunRunner needs cloud mode settings');
    }
    this.cloud = config.cloud;
    this.services = clients.services ?? new ServicesClient();
    this.revisions = clients.revisions ?? new RevisionsClient();
  }

  async deploy(input: RevisionInput): Promise<Revision> {
    const revision = revisionNameFor(input.serviceName, input.deploymentId);
    const tag = tagFor(input.serviceName, input.deploymentId);
    const current = await this.findService(input.serviceName);

    // The first revision of a service has nothing to share traffic with; its
    // tag still gives verification the same kind of URL.
    const newTarget = { type: REVISION, revision, tag };
    const traffic: TrafficTarget[] = current?.latestReadyRevision
      ? [...pinnedTraffic(current), { ...newTarget, percent: 0 }]
      : [{ ...newTarget, percent: 100 }];
    const service: Service = {
      ...(current ?? {}),
      name: this.serviceName(input.serviceName),
      labels: { ...current?.labels, 'sigyl-package': input.packageId },
      template: this.templateFor(input, revision),
      traffic,
      // MCP clients call the server without Google credentials.
      invokerIamDisabled: true,
    };

    let deployed: Service;
    try {
      deployed = current
        ? await this.update(service)
        : await this.waitFor(
            this.services.createService({
              parent: this.parent(),
              serviceId: input.serviceName,
              service: { ...service, name: '' },
            }),
          );
    } catch (error) {
      throw await this.deployError(input, revision, error);
    }

    const url = deployed.trafficStatuses?.find(
      (status) => status.tag === tag,
    )?.uri;
    if (!url) {
      throw await this.deployError(
        input,
        revision,
        new Error(`Cloud Run gave no URL for tag ${tag}`),
      );
    }
    log('INFO', 'revision ready', {
      deploymentId: input.deploymentId,
      revision,
      url,
    });
    return { revision, url };
  }

  async promote(
    input: RevisionInput,
    revision: Revision,
  ): Promise<{ url: string }> {
    const tag = tagFor(input.serviceName, input.deploymentId);
    const current = await this.findService(input.serviceName);
    if (!current) {
      throw new Error(
        `Cloud Run service ${input.serviceName} is gone; cannot promote ${revision.revision}`,
      );
    }

    // Other deployments' tags under verification stay; the previous live
    // revision loses its traffic.
    const others = (current.traffic ?? []).filter(
      (target) => target.tag && target.tag !== tag && !target.percent,
    );
    const promoted = await this.update({
      ...current,
      traffic: [
        ...others,
        { type: REVISION, revision: revision.revision, percent: 100, tag },
      ],
    }).catch((error: unknown) => {
      throw new Error(
        `Cloud Run could not move traffic to ${revision.revision}: ${serviceMessage(error)}`,
        { cause: error },
      );
    });
    if (!promoted.uri) {
      throw new Error(`Cloud Run service ${input.serviceName} has no URL`);
    }
    log('INFO', 'revision promoted', {
      deploymentId: input.deploymentId,
      revision: revision.revision,
    });
    return { url: promoted.uri };
  }

  async discard(input: RevisionInput, revision: Revision): Promise<void> {
    const tag = tagFor(input.serviceName, input.deploymentId);
    const current = await this.findService(input.serviceName);
    const traffic = current?.traffic ?? [];
    if (!current || !traffic.some((target) => target.tag === tag)) return;

    // A first revision keeps the service's only traffic; it just loses its tag.
    const remaining = traffic
      .filter((target) => target.tag !== tag || target.percent)
      .map((target) => (target.tag === tag ? { ...target, tag: '' } : target));
    await this.update({ ...current, traffic: remaining }).catch(
      (error: unknown) => {
        throw new Error(
          `Cloud Run could not remove tag ${tag} of ${revision.revision}: ${serviceMessage(error)}`,
          { cause: error },
        );
      },
    );
    log('INFO', 'revision discarded', {
      deploymentId: input.deploymentId,
      revision: revision.revision,
    });
  }

  private templateFor(input: RevisionInput, revision: string) {
    const { deployment } = input;
    const transport =
      deployment.run?.transport ??
      (deployment.source.type === 'npm' ? 'stdio' : 'http');
    const env = [
      ...Object.entries(deployment.env).map(([name, value]) => ({
        name,
        value,
      })),
      ...deployment.secretNames.map((name) => ({
        name,
        valueSource: {
          secretKeyRef: {
            secret: secretIdFor(input.deploymentId, name),
            version: 'latest',
          },
        },
      })),
    ];
    return {
      revision,
      labels: {
        'sigyl-deployment': input.deploymentId,
        'sigyl-package': input.packageId,
      },
      scaling: { minInstanceCount: 0, maxInstanceCount: MAX_INSTANCES },
      serviceAccount: this.cloud.runtimeServiceAccount,
      timeout: { seconds: REQUEST_TIMEOUT_SECONDS },
      // The stdio bridge keeps each session in one instance's memory.
      sessionAffinity: transport === 'stdio',
      containers: [
        {
          image: imageName(
            this.config.projectId,
            this.cloud,
            input.serviceName,
            input.deploymentId,
          ),
          ports: [
            {
              name: 'http1',
              containerPort: deployment.run?.port ?? DEFAULT_PORT,
            },
          ],
          resources: {
            limits: { cpu: '1', memory: '512Mi' },
            cpuIdle: true,
            startupCpuBoost: true,
          },
          env,
        },
      ],
    };
  }

  private async update(service: Service): Promise<Service> {
    return this.waitFor(this.services.updateService({ service }));
  }

  private async waitFor(
    call: Promise<
      [{ promise(): Promise<[Service, ...unknown[]]> }, ...unknown[]]
    >,
  ): Promise<Service> {
    const [operation] = await call;
    const [service] = await operation.promise();
    return service;
  }

  private async findService(serviceName: string): Promise<Service | null> {
    try {
      const [service] = await this.services.getService({
        name: this.serviceName(serviceName),
      });
      return service;
    } catch (error) {
      if ((error as { code?: number }).code === NOT_FOUND) return null;
      throw new Error(
        `Cloud Run could not read service ${serviceName}: ${serviceMessage(error)}`,
        { cause: error },
      );
    }
  }

  // A revision that did not become ready says why in its Ready condition;
  // that message is what the user needs to see.
  private async deployError(
    input: RevisionInput,
    revision: string,
    error: unknown,
  ): Promise<Error> {
    if ((error as { code?: number }).code === RESOURCE_EXHAUSTED) {
      return new Error(
        `Cloud Run quota exceeded while deploying ${revision}: ${serviceMessage(error)}`,
        { cause: error },
      );
    }
    const condition = await this.readyCondition(input.serviceName, revision);
    if (condition?.message && condition.state === 'CONDITION_FAILED') {
      return new RevisionNotReadyError(revision, condition.message, error);
    }
    return new Error(
      `Cloud Run could not deploy ${revision}: ${serviceMessage(error)}`,
      { cause: error },
    );
  }

  private async readyCondition(serviceName: string, revision: string) {
    try {
      const [found] = await this.revisions.getRevision({
        name: `${this.serviceName(serviceName)}/revisions/${revision}`,
      });
      return (
        found.conditions?.find((condition) => condition.type === 'Ready') ??
        null
      );
    } catch {
      return null;
    }
  }

  private parent() {
    return `projects/${this.config.projectId}/locations/${this.cloud.region}`;
  }

  private serviceName(serviceName: string) {
    return `${this.parent()}/services/${serviceName}`;
  }
}

export class RevisionNotReadyError extends Error {
  constructor(
    readonly revision: string,
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'RevisionNotReadyError';
  }
}

// Cloud Run puts the tag and the service name into one DNS label of the tag's
// URL and refuses the pair when it is longer than 46 characters.
export function tagFor(serviceName: string, deploymentId: string) {
  return `d${deploymentId}`.slice(0, Math.max(3, 46 - serviceName.length));
}

// Traffic as it is, with "latest" replaced by the revision it means now, so
// that the new revision does not take traffic by becoming the latest.
function pinnedTraffic(service: Service): TrafficTarget[] {
  const latest = (service.latestReadyRevision ?? '').split('/').pop();
  return (service.traffic ?? []).map((target) =>
    String(target.type) === LATEST || Number(target.type) === 1
      ? {
          type: REVISION,
          revision: latest,
          percent: target.percent ?? 0,
          tag: target.tag ?? '',
        }
      : target,
  );
}
