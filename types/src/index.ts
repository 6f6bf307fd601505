// Documents, messages and names shared by the functions and the web page.
// The Firestore layout and topic names here are contracts: tests and outside
// tools depend on them.

export const TOPICS = {
  deploymentRequests: 'deployment-requests',
  cloudBuilds: 'cloud-builds',
  deploymentLogs: 'deployment-logs',
} as const;

export const COLLECTIONS = {
  packages: 'packages',
  deployments: 'deployments',
  logs: 'logs',
  idempotencyKeys: 'idempotencyKeys',
} as const;

export type GithubSource = {
  type: 'github';
  url: string;
  ref?: string;
  subdirectory?: string;
};
export type NpmSource = { type: 'npm'; spec: string };
export type GitSource = {
  type: 'git';
  url: string;
  ref?: string;
  subdirectory?: string;
};
export type Source = GithubSource | NpmSource | GitSource;
export type SourceType = Source['type'];

export type RunConfig = {
  transport: 'stdio' | 'http';
  args?: string[];
  port?: number;
  path?: string;
};

export type Visibility = 'private' | 'public';

export type Tool = { name: string; description: string };

export type PackageDoc = {
  ownerId: string;
  name: string;
  slug: string;
  description: string;
  visibility: Visibility;
  source: Source;
  run: RunConfig | null;
  serviceName: string;
  currentDeploymentId: string | null;
  liveDeploymentId: string | null;
  url: string | null;
  protocolVersion: string | null;
  tools: Tool[];
  createdAt: string;
  updatedAt: string;
};

// A package as it is first recorded: private, never live, no tools yet.
export function newPackageDoc(
  init: Pick<
    PackageDoc,
    'ownerId' | 'name' | 'slug' | 'source' | 'serviceName'
  > &
    Partial<PackageDoc>,
  now = new Date().toISOString(),
): PackageDoc {
  return {
    description: '',
    visibility: 'private',
    run: null,
    currentDeploymentId: null,
    liveDeploymentId: null,
    url: null,
    protocolVersion: null,
    tools: [],
    createdAt: now,
    updatedAt: now,
    ...init,
  };
}

export const DEPLOYMENT_STATUSES = [
  'queued',
  'building',
  'deploying',
  'verifying',
  'live',
  'failed',
  'cancelled',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export const FINAL_STATUSES: readonly DeploymentStatus[] = [
  'live',
  'failed',
  'cancelled',
];
export const IN_PROGRESS_STATUSES: readonly DeploymentStatus[] =
  DEPLOYMENT_STATUSES.filter((status) => !FINAL_STATUSES.includes(status));

export const STEP_NAMES = ['source', 'build', 'deploy', 'verify'] as const;
export type StepName = (typeof STEP_NAMES)[number];
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';
export type Step = {
  name: StepName;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
};

export type DeploymentError = {
  step: StepName;
  message: string;
  tail: string[];
};

export type LogStats = { lines: number; omitted: number; bytes: number };

export type DeploymentDoc = {
  packageId: string;
  ownerId: string;
  source: Source;
  run: RunConfig | null;
  env: Record<string, string>;
  secretNames: string[];
  status: DeploymentStatus;
  buildId: string | null;
  revision: string | null;
  url: string | null;
  steps: Step[];
  error: DeploymentError | null;
  logStats: LogStats;
  lastLineAt: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  // Set once startDeployment has claimed the request.
  buildRequestedAt?: string;
};

// A deployment as it is first recorded: queued, every step pending.
export function newDeploymentDoc(
  init: Pick<DeploymentDoc, 'packageId' | 'ownerId' | 'source'> &
    Partial<DeploymentDoc>,
  now = new Date().toISOString(),
): DeploymentDoc {
  return {
    run: null,
    env: {},
    secretNames: [],
    status: 'queued',
    buildId: null,
    revision: null,
    url: null,
    steps: STEP_NAMES.map((name) => ({ name, status: 'pending' })),
    error: null,
    logStats: { lines: 0, omitted: 0, bytes: 0 },
    lastLineAt: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    ...init,
  };
}

export type LineSource = 'build' | 'runtime' | 'system';

export type LogLine = {
  id: string;
  // RFC 3339 UTC with exactly nine fractional digits, so string order is time
  // order.
  ts: string;
  text: string;
  source: LineSource;
  step?: string;
  stream?: 'stdout' | 'stderr';
  severity?: string;
  // Set when `text` was cut: the whole line's length in UTF-8 bytes.
  fullLength?: number;
};

// A chunk takes the lines of small writes that follow one another until it
// is full, and `writtenAt` moves to each write's commit time; its lines only
// ever grow at the end. The one exception is the `tail` chunk, rewritten
// whole past the volume limit.
export type LogChunkDoc = {
  lines: LogLine[];
  // Firestore timestamps on the server side; the page reads them as such.
  writtenAt: unknown;
  expireAt: unknown;
};

export const TAIL_CHUNK_ID = 'tail';

export const LOG_LIMITS = {
  lineBytes: 16 * 1024,
  linesPerDeployment: 250_000,
  bytesPerDeployment: 64 * 1024 * 1024,
} as const;

// API bodies.
export type CreateDeploymentRequest = {
  source: Source;
  package: { name: string; description?: string };
  packageId?: string;
  run?: RunConfig;
  env?: Record<string, string>;
  secrets?: Record<string, string>;
};
export type CreateDeploymentResponse = {
  deploymentId: string;
  packageId: string;
  pageUrl: string;
};
export type ApiError = {
  error: { code: string; message: string; field?: string };
};

export function pageUrlFor(packageId: string): string {
  return `/mcp/${packageId}?new=true&deploying=true`;
}

export function isFinal(status: DeploymentStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

// Merge lines from several chunks: drop repeated ids, order by (ts, id).
export function mergeLines(chunks: Iterable<readonly LogLine[]>): LogLine[] {
  const byId = new Map<string, LogLine>();
  for (const lines of chunks) {
    for (const line of lines) {
      if (!byId.has(line.id)) byId.set(line.id, line);
    }
  }
  return [...byId.values()].sort(compareLines);
}

export function compareLines(a: LogLine, b: LogLine): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}
