// The parts of Cloud Build's Build resource that Sigyl reads and that the
// local builder publishes (as JSON on `cloud-builds`, like Cloud Build).
export type BuildStatus =
  | 'STATUS_UNKNOWN'
  | 'PENDING'
  | 'QUEUED'
  | 'WORKING'
  | 'SUCCESS'
  | 'FAILURE'
  | 'INTERNAL_ERROR'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'EXPIRED';

export type BuildResource = {
  id: string;
  projectId?: string;
  status: BuildStatus;
  statusDetail?: string;
  createTime?: string;
  startTime?: string;
  finishTime?: string;
  timeout?: string;
  tags?: string[];
  steps: {
    id?: string;
    name?: string;
    status?: BuildStatus;
    timing?: { startTime?: string; endTime?: string };
  }[];
  failureInfo?: { type?: string; detail?: string };
  results?: { images?: { name?: string; digest?: string }[] };
  logUrl?: string;
};

const DEPLOYMENT_TAG = /^sigyl-deployment-([a-z0-9]+)$/;

// Tags carry the deployment id, so a build event maps to its deployment
// without a lookup.
export function buildTags(deploymentId: string): string[] {
  return ['sigyl', `sigyl-deployment-${deploymentId}`];
}

export function deploymentIdFromTags(
  tags: string[] | undefined,
): string | null {
  for (const tag of tags ?? []) {
    const match = tag.match(DEPLOYMENT_TAG);
    if (match) return match[1]!;
  }
  return null;
}
