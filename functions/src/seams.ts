import type { DeploymentDoc, RunConfig, Source } from '@sigyl/types';

// The two seams: Cloud Build or the local builder, Cloud Run or the local
// runner. Everything else is the same code in both modes.

export type BuildStepId = 'fetch-source' | 'install' | 'build' | 'bridge';

export type BuildPlan = {
  deploymentId: string;
  packageId: string;
  serviceName: string;
  source: Source;
  // From the request; a repository's sigyl.json fills what is missing at
  // build time.
  run: RunConfig | null;
  steps: { id: BuildStepId; title: string }[];
  // Names of secrets the build may read; their values never enter the plan.
  buildSecretNames: string[];
  timeoutSeconds: number;
};

export interface Builder {
  // Starts the build and returns at once; status arrives on `cloud-builds`.
  start(plan: BuildPlan): Promise<{ buildId: string }>;
  cancel(buildId: string): Promise<void>;
}

export type RevisionInput = {
  deploymentId: string;
  packageId: string;
  serviceName: string;
  deployment: DeploymentDoc;
  // Secret values for the server's environment, by name.
  secrets: Record<string, string>;
};

export type Revision = {
  revision: string;
  // Where verification reaches the new revision before it takes traffic.
  url: string;
};

export interface Runner {
  // Starts a new revision that takes no traffic yet.
  deploy(input: RevisionInput): Promise<Revision>;
  // Moves traffic to a verified revision and returns the service's URL.
  promote(input: RevisionInput, revision: Revision): Promise<{ url: string }>;
  // Stops a revision that failed verification or was cancelled.
  discard(input: RevisionInput, revision: Revision): Promise<void>;
}

export interface SecretStore {
  put(deploymentId: string, secrets: Record<string, string>): Promise<void>;
  get(deploymentId: string): Promise<Record<string, string>>;
}
