import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// Shared parts of the gRPC stand-ins: they load the .proto files that the
// client libraries ship, so requests and answers travel in the same wire
// format as in production.

const require = createRequire(import.meta.url);

export type RecordedRequest = { method: string; request: unknown };

// The protos folder of a client package (e.g. '@google-cloud/cloudbuild'),
// and the common protos (google/api, google/longrunning) of its google-gax.
export function protoDirs(clientPackage: string): string[] {
  const packageDir = dirname(require.resolve(`${clientPackage}/package.json`));
  const gax = gaxOf(clientPackage);
  return [
    join(packageDir, 'build', 'protos'),
    join(
      packageRoot(gax.resolve('google-gax'), 'google-gax'),
      'build',
      'protos',
    ),
  ];
}

export function loadProtos(clientPackage: string, files: string[]) {
  const definition = protoLoader.loadSync(files, {
    includeDirs: protoDirs(clientPackage),
    longs: String,
    enums: String,
    defaults: false,
    oneofs: false,
    // Any fields become { '@type': ..., ...fields } both ways.
    json: true,
  });
  return grpc.loadPackageDefinition(definition);
}

// The client libraries each bring their own copy of @grpc/grpc-js, and
// grpc-js checks credentials with instanceof: insecure credentials must come
// from the copy the library's google-gax uses.
export function insecureCredentialsFor(clientPackage: string): unknown {
  const gax = gaxOf(clientPackage)('google-gax') as {
    grpc: { credentials: { createInsecure(): unknown } };
  };
  return gax.grpc.credentials.createInsecure();
}

// google-gax exports no package.json; find its folder from its entry point.
function packageRoot(entry: string, name: string) {
  return entry.slice(0, entry.lastIndexOf(`/${name}/`) + name.length + 1);
}

// Options that point a client library at a stand-in on this machine.
export function clientOptionsFor(clientPackage: string, port: number) {
  return {
    apiEndpoint: '127.0.0.1',
    port,
    sslCreds: insecureCredentialsFor(clientPackage) as never,
    // Said outright, so the library does not look for credentials to learn
    // it (a metadata server lookup that fails here).
    universeDomain: 'googleapis.com',
  };
}

function gaxOf(clientPackage: string) {
  return createRequire(require.resolve(`${clientPackage}/package.json`));
}

export function serviceOf(
  loaded: grpc.GrpcObject,
  fullName: string,
): grpc.ServiceDefinition {
  let node: unknown = loaded;
  for (const part of fullName.split('.')) {
    node = (node as Record<string, unknown>)[part];
  }
  const service = (node as { service?: grpc.ServiceDefinition }).service;
  if (!service) throw new Error(`no gRPC service ${fullName} in the protos`);
  return service;
}

export type Handler = (request: never) => unknown;

// Serves the given services on a free loopback port. Each handler returns the
// answer or throws a StandinError; every request is recorded first.
export async function startGrpcServer(
  services: {
    definition: grpc.ServiceDefinition;
    handlers: Record<string, Handler>;
  }[],
  requests: RecordedRequest[],
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new grpc.Server();
  for (const { definition, handlers } of services) {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [method, handle] of Object.entries(handlers)) {
      implementation[method] = (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        requests.push({ method, request: call.request });
        Promise.resolve()
          .then(() => handle(call.request as never))
          .then(
            (answer) => callback(null, answer),
            (error: unknown) => callback(toServiceError(error)),
          );
      };
    }
    server.addService(definition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(),
      (error, boundPort) => (error ? reject(error) : resolve(boundPort)),
    ),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export class StandinError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  if (error instanceof StandinError) {
    return { code: error.code, details: error.message };
  }
  return { code: grpc.status.INTERNAL, details: String(error) };
}

export { grpc };

// google.protobuf.Timestamp from an RFC 3339 string, keeping nanoseconds.
export function timestampOf(iso: string): { seconds: string; nanos: number } {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!match) throw new Error(`not an RFC 3339 UTC time: ${iso}`);
  const seconds = Math.floor(Date.parse(`${match[1]}Z`) / 1000);
  const nanos = Number((match[2] ?? '').padEnd(9, '0'));
  return { seconds: String(seconds), nanos };
}

export function nowTimestamp() {
  return timestampOf(new Date().toISOString());
}
