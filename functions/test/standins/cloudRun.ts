import { RevisionsClient, ServicesClient } from '@google-cloud/run';
import {
  grpc,
  clientOptionsFor,
  loadProtos,
  nowTimestamp,
  serviceOf,
  StandinError,
  startGrpcServer,
  type RecordedRequest,
} from './grpc.ts';

// A local Cloud Run Admin API v2 (gRPC) that records every request, keeps
// services and revisions in memory, and answers with URLs the test chooses.
// Operations finish on the first poll, so clients really wait for them.

const PACKAGE = '@google-cloud/run';
const V2 = 'google.cloud.run.v2';

type Condition = { type: string; state: string; message?: string };
type TrafficTarget = {
  type?: string;
  revision?: string;
  percent?: number;
  tag?: string;
};
type StandinService = {
  name: string;
  template: { revision?: string; [field: string]: unknown };
  traffic?: TrafficTarget[];
  [field: string]: unknown;
};
type StandinRevision = {
  name: string;
  service: string;
  conditions: Condition[];
  [field: string]: unknown;
};

export type UrlTarget = {
  service: string;
  revision: string;
  tag: string | null;
};

export type CloudRunStandinOptions = {
  // The URL of the service (tag null) or of a tagged revision.
  url?: (target: UrlTarget) => string;
  // A message makes the revision fail to become ready with it.
  revisionFailure?: (revision: string) => string | null;
};

export type CloudRunStandin = {
  port: number;
  requests: RecordedRequest[];
  services: Map<string, StandinService>;
  revisions: Map<string, StandinRevision>;
  failNext(method: string, code: grpc.status, message: string): void;
  clients(): { services: ServicesClient; revisions: RevisionsClient };
  close(): Promise<void>;
};

export async function startCloudRunStandin(
  options: CloudRunStandinOptions = {},
): Promise<CloudRunStandin> {
  const loaded = loadProtos(PACKAGE, [
    'google/cloud/run/v2/service.proto',
    'google/cloud/run/v2/revision.proto',
    'google/longrunning/operations.proto',
  ]);
  const urlFor =
    options.url ??
    ((target: UrlTarget) =>
      `https://${target.tag ? `${target.tag}---` : ''}${shortName(target.service)}-standin-uc.a.run.app`);
  const requests: RecordedRequest[] = [];
  const services = new Map<string, StandinService>();
  const revisions = new Map<string, StandinRevision>();
  const operations = new Map<
    string,
    { service: StandinService; error?: { code: number; message: string } }
  >();
  const failures = new Map<string, StandinError>();
  let operationCount = 0;

  const failIfAsked = (method: string) => {
    const failure = failures.get(method);
    failures.delete(method);
    if (failure) throw failure;
  };

  // Checks the request as Cloud Run does, creates the template's revision
  // when it is new, then routes traffic as asked. A revision that does not
  // become ready leaves the service as it was.
  const apply = (
    previous: StandinService | undefined,
    next: StandinService,
  ) => {
    const service: StandinService = { ...previous, ...next };
    const serviceId = shortName(service.name);
    const revisionId =
      next.template.revision ||
      `${serviceId}-${String(++operationCount).padStart(5, '0')}`;
    const revisionName = `${service.name}/revisions/${revisionId}`;
    const traffic = next.traffic?.length
      ? next.traffic
      : [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }];
    const targetOf = (target: TrafficTarget) =>
      target.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
        ? revisionName
        : `${service.name}/revisions/${target.revision}`;
    checkTraffic(traffic, serviceId, (target) => {
      const revision = targetOf(target);
      return revision === revisionName || revisions.has(revision);
    });

    service.latestCreatedRevision = revisionName;
    if (!revisions.has(revisionName)) {
      const failure = options.revisionFailure?.(revisionId) ?? null;
      revisions.set(revisionName, {
        ...next.template,
        name: revisionName,
        service: service.name,
        createTime: nowTimestamp(),
        conditions: [
          failure
            ? { type: 'Ready', state: 'CONDITION_FAILED', message: failure }
            : { type: 'Ready', state: 'CONDITION_SUCCEEDED' },
        ],
      });
      if (failure) {
        const error = {
          code: grpc.status.FAILED_PRECONDITION,
          message: `Revision '${revisionId}' is not ready and cannot serve traffic. ${failure}`,
        };
        const kept = previous ?? {
          ...service,
          traffic: [],
          trafficStatuses: [],
        };
        kept.latestCreatedRevision = revisionName;
        kept.terminalCondition = {
          type: 'Ready',
          state: 'CONDITION_FAILED',
          message: error.message,
        };
        services.set(service.name, kept);
        return { service: kept, error };
      }
    }

    service.latestReadyRevision = revisionName;
    service.trafficStatuses = traffic.map((target) => {
      const revision = shortName(targetOf(target));
      const tag = target.tag || null;
      return {
        ...target,
        revision,
        ...(tag
          ? { uri: urlFor({ service: service.name, revision, tag }) }
          : {}),
      };
    });
    service.uri = urlFor({
      service: service.name,
      revision: revisionId,
      tag: null,
    });
    service.urls = [service.uri];
    service.terminalCondition = { type: 'Ready', state: 'CONDITION_SUCCEEDED' };
    services.set(service.name, service);
    return { service };
  };

  const startOperation = (result: {
    service: StandinService;
    error?: { code: number; message: string };
  }) => {
    const name = `projects/standin/locations/standin/operations/${++operationCount}`;
    operations.set(name, result);
    return { name, done: false, metadata: packService(result.service) };
  };

  const servicesHandlers = {
    CreateService: (request: {
      parent: string;
      serviceId: string;
      service: StandinService;
    }) => {
      failIfAsked('CreateService');
      const name = `${request.parent}/services/${request.serviceId}`;
      if (services.has(name))
        throw new StandinError(
          grpc.status.ALREADY_EXISTS,
          `Resource '${request.serviceId}' already exists.`,
        );
      return startOperation(apply(undefined, { ...request.service, name }));
    },
    UpdateService: (request: {
      service: StandinService;
      allowMissing?: boolean;
    }) => {
      failIfAsked('UpdateService');
      const previous = services.get(request.service.name);
      if (!previous && !request.allowMissing) {
        throw new StandinError(
          grpc.status.NOT_FOUND,
          `Resource '${shortName(request.service.name)}' was not found`,
        );
      }
      return startOperation(apply(previous, request.service));
    },
    GetService: (request: { name: string }) => {
      failIfAsked('GetService');
      const service = services.get(request.name);
      if (!service)
        throw new StandinError(
          grpc.status.NOT_FOUND,
          `Resource '${shortName(request.name)}' was not found`,
        );
      return service;
    },
  };
  const revisionHandlers = {
    GetRevision: (request: { name: string }) => {
      const revision = revisions.get(request.name);
      if (!revision)
        throw new StandinError(
          grpc.status.NOT_FOUND,
          `Revision ${request.name} was not found`,
        );
      return revision;
    },
  };
  const operationHandlers = {
    GetOperation: (request: { name: string }) => {
      const result = operations.get(request.name);
      if (!result)
        throw new StandinError(
          grpc.status.NOT_FOUND,
          `no operation ${request.name}`,
        );
      return {
        name: request.name,
        done: true,
        metadata: packService(result.service),
        ...(result.error
          ? { error: result.error }
          : { response: packService(result.service) }),
      };
    },
  };

  const server = await startGrpcServer(
    [
      {
        definition: serviceOf(loaded, `${V2}.Services`),
        handlers: servicesHandlers,
      },
      {
        definition: serviceOf(loaded, `${V2}.Revisions`),
        handlers: revisionHandlers,
      },
      {
        definition: serviceOf(loaded, 'google.longrunning.Operations'),
        handlers: operationHandlers,
      },
    ],
    requests,
  );

  const clientOptions = () => clientOptionsFor(PACKAGE, server.port);
  return {
    port: server.port,
    requests,
    services,
    revisions,
    failNext(method, code, message) {
      failures.set(method, new StandinError(code, message));
    },
    clients: () => ({
      services: new ServicesClient(clientOptions()),
      revisions: new RevisionsClient(clientOptions()),
    }),
    close: server.close,
  };
}

function checkTraffic(
  traffic: TrafficTarget[],
  serviceId: string,
  isKnown: (target: TrafficTarget) => boolean,
) {
  const invalid = (message: string) =>
    new StandinError(grpc.status.INVALID_ARGUMENT, message);
  const total = traffic.reduce((sum, target) => sum + (target.percent ?? 0), 0);
  if (total !== 100) {
    throw invalid(`traffic percentages add up to ${total}, not 100`);
  }
  for (const target of traffic) {
    if (!isKnown(target)) {
      throw invalid(`traffic names unknown revision ${target.revision}`);
    }
    if (target.tag && target.tag.length + serviceId.length > 46) {
      throw invalid(
        `traffic tag '${target.tag}' and service name '${serviceId}' together are too long. Combined traffic tag and service name cannot exceed 46 characters.`,
      );
    }
  }
}

function packService(service: StandinService) {
  return { '@type': `type.googleapis.com/${V2}.Service`, ...service };
}

function shortName(name: string) {
  return name.slice(name.lastIndexOf('/') + 1);
}
