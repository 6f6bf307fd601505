import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
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

// A local Secret Manager (v1, gRPC) that records every request and keeps
// secrets, their versions and IAM policies in memory.

const PACKAGE = '@google-cloud/secret-manager';

type StandinSecret = {
  name: string;
  labels: Record<string, string>;
  versions: Buffer[];
  policy: unknown;
};

export type SecretManagerStandin = {
  port: number;
  requests: RecordedRequest[];
  secrets: Map<string, StandinSecret>;
  client(): SecretManagerServiceClient;
  close(): Promise<void>;
};

export async function startSecretManagerStandin(): Promise<SecretManagerStandin> {
  const loaded = loadProtos(PACKAGE, [
    'google/cloud/secretmanager/v1/service.proto',
  ]);
  const requests: RecordedRequest[] = [];
  const secrets = new Map<string, StandinSecret>();

  const find = (name: string) => {
    const secret = secrets.get(name);
    if (!secret)
      throw new StandinError(
        grpc.status.NOT_FOUND,
        `Secret [${name}] not found.`,
      );
    return secret;
  };
  const view = (secret: StandinSecret) => ({
    name: secret.name,
    labels: secret.labels,
    createTime: nowTimestamp(),
  });

  const handlers = {
    CreateSecret: (request: {
      parent: string;
      secretId: string;
      secret?: { labels?: Record<string, string> };
    }) => {
      const name = `${request.parent}/secrets/${request.secretId}`;
      if (secrets.has(name))
        throw new StandinError(
          grpc.status.ALREADY_EXISTS,
          `Secret [${name}] already exists.`,
        );
      const secret = {
        name,
        labels: request.secret?.labels ?? {},
        versions: [],
        policy: null,
      };
      secrets.set(name, secret);
      return view(secret);
    },
    AddSecretVersion: (request: {
      parent: string;
      payload: { data: Buffer };
    }) => {
      const secret = find(request.parent);
      secret.versions.push(Buffer.from(request.payload.data));
      return {
        name: `${secret.name}/versions/${secret.versions.length}`,
        state: 'ENABLED',
      };
    },
    ListSecrets: (request: { parent: string; filter?: string }) => {
      const label = /^labels\.([\w-]+)=(\S+)$/.exec(request.filter ?? '');
      const listed = [...secrets.values()].filter(
        (secret) =>
          secret.name.startsWith(`${request.parent}/secrets/`) &&
          (!label || secret.labels[label[1]!] === label[2]),
      );
      return { secrets: listed.map(view), totalSize: listed.length };
    },
    AccessSecretVersion: (request: { name: string }) => {
      const [, secretName, version] =
        /^(.*)\/versions\/(\w+)$/.exec(request.name) ?? [];
      const secret = find(secretName ?? request.name);
      const index =
        version === 'latest' ? secret.versions.length : Number(version);
      const data = secret.versions[index - 1];
      if (!data)
        throw new StandinError(
          grpc.status.NOT_FOUND,
          `Secret Version [${request.name}] not found.`,
        );
      return { name: `${secret.name}/versions/${index}`, payload: { data } };
    },
    SetIamPolicy: (request: { resource: string; policy: unknown }) => {
      find(request.resource).policy = request.policy;
      return request.policy;
    },
  };

  const server = await startGrpcServer(
    [
      {
        definition: serviceOf(
          loaded,
          'google.cloud.secretmanager.v1.SecretManagerService',
        ),
        handlers,
      },
    ],
    requests,
  );
  return {
    port: server.port,
    requests,
    secrets,
    client: () =>
      new SecretManagerServiceClient(clientOptionsFor(PACKAGE, server.port)),
    close: server.close,
  };
}
