import { randomUUID } from 'node:crypto';
import { CloudBuildClient } from '@google-cloud/cloudbuild';
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

// A local Cloud Build (v1, gRPC) that records every request. Builds stay
// QUEUED until the test moves them with setStatus().

const PACKAGE = '@google-cloud/cloudbuild';
const V1 = 'google.devtools.cloudbuild.v1';

export type StandinBuild = {
  id: string;
  projectId: string;
  status: string;
  statusDetail?: string;
  steps?: { id?: string; name?: string; status?: string }[];
  tags?: string[];
  images?: string[];
  failureInfo?: { type: string; detail: string };
  [field: string]: unknown;
};

export type CloudBuildStandin = {
  port: number;
  requests: RecordedRequest[];
  builds: Map<string, StandinBuild>;
  // The next call of `method` fails with this gRPC status.
  failNext(method: string, code: grpc.status, message: string): void;
  setStatus(
    buildId: string,
    status: string,
    changes?: Partial<StandinBuild>,
  ): StandinBuild;
  client(): CloudBuildClient;
  close(): Promise<void>;
};

export type CloudBuildStandinOptions = {
  // Called with each build as it is created; a pipeline test can drive the
  // build from here with setStatus().
  onCreate?: (build: StandinBuild) => void;
  // Called after each setStatus(), e.g. to publish buildJson(build) on
  // `cloud-builds` as Cloud Build would.
  onStatus?: (build: StandinBuild) => void | Promise<void>;
};

export async function startCloudBuildStandin(
  options: CloudBuildStandinOptions = {},
): Promise<CloudBuildStandin> {
  const loaded = loadProtos(PACKAGE, [
    'google/devtools/cloudbuild/v1/cloudbuild.proto',
    'google/longrunning/operations.proto',
  ]);
  const requests: RecordedRequest[] = [];
  const builds = new Map<string, StandinBuild>();
  const operations = new Map<string, string>();
  const failures = new Map<string, StandinError>();

  const failIfAsked = (method: string) => {
    const failure = failures.get(method);
    failures.delete(method);
    if (failure) throw failure;
  };
  const findBuild = (id: string) => {
    const build = builds.get(id);
    if (!build)
      throw new StandinError(grpc.status.NOT_FOUND, `Build ${id} not found`);
    return build;
  };
  const operationFor = (build: StandinBuild, name: string) => ({
    name,
    done: isTerminal(build.status),
    metadata: {
      '@type': `type.googleapis.com/${V1}.BuildOperationMetadata`,
      build,
    },
    ...(isTerminal(build.status)
      ? { response: { '@type': `type.googleapis.com/${V1}.Build`, ...build } }
      : {}),
  });

  const cloudBuild = {
    CreateBuild: (request: {
      projectId: string;
      build: Record<string, unknown>;
    }) => {
      failIfAsked('CreateBuild');
      const id = randomUUID();
      const build: StandinBuild = {
        ...request.build,
        id,
        projectId: request.projectId,
        status: 'QUEUED',
        createTime: nowTimestamp(),
      };
      builds.set(id, build);
      const name = `operations/build/${request.projectId}/${id}`;
      operations.set(name, id);
      const answer = operationFor(build, name);
      options.onCreate?.(build);
      return answer;
    },
    GetBuild: (request: { id: string }) => {
      failIfAsked('GetBuild');
      return findBuild(request.id);
    },
    CancelBuild: (request: { id: string }) => {
      failIfAsked('CancelBuild');
      const build = findBuild(request.id);
      if (!isTerminal(build.status)) build.status = 'CANCELLED';
      return build;
    },
  };
  const longrunning = {
    GetOperation: (request: { name: string }) => {
      const id = operations.get(request.name);
      if (!id)
        throw new StandinError(
          grpc.status.NOT_FOUND,
          `no operation ${request.name}`,
        );
      return operationFor(findBuild(id), request.name);
    },
  };

  const server = await startGrpcServer(
    [
      {
        definition: serviceOf(loaded, `${V1}.CloudBuild`),
        handlers: cloudBuild,
      },
      {
        definition: serviceOf(loaded, 'google.longrunning.Operations'),
        handlers: longrunning,
      },
    ],
    requests,
  );

  return {
    port: server.port,
    requests,
    builds,
    failNext(method, code, message) {
      failures.set(method, new StandinError(code, message));
    },
    setStatus(buildId, status, changes = {}) {
      const build = findBuild(buildId);
      Object.assign(build, changes, { status });
      void Promise.resolve(options.onStatus?.(build)).catch((error: unknown) =>
        console.error('cloud build stand-in: onStatus failed', error),
      );
      return build;
    },
    client: () => new CloudBuildClient(clientOptionsFor(PACKAGE, server.port)),
    close: server.close,
  };
}

function isTerminal(status: string) {
  return !['STATUS_UNKNOWN', 'PENDING', 'QUEUED', 'WORKING'].includes(status);
}

// The Build as JSON, the way `cloud-builds` messages carry it: times as
// RFC 3339 strings, durations as "123s".
export function buildJson(build: StandinBuild): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(build, (key, value: unknown) => {
      if (!isSeconds(value)) return value;
      return key.endsWith('Time') ? rfc3339(value) : `${value.seconds}s`;
    }),
  ) as Record<string, unknown>;
}

function isSeconds(
  value: unknown,
): value is { seconds: string; nanos?: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'seconds' in value &&
    Object.keys(value).every((key) => key === 'seconds' || key === 'nanos')
  );
}

function rfc3339(value: { seconds: string; nanos?: number }) {
  const millis =
    Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}
