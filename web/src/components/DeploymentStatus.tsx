import type { DeploymentDoc, DeploymentStatus, Step } from '@sigyl/types';
import { isFinal } from '@sigyl/types';
import { renderAnsi } from '../logs/ansi.ts';
import { useNow } from './LogViewer.tsx';
import { Spans } from './Spans.tsx';

const HEADLINES: Record<DeploymentStatus, string> = {
  queued: 'Queued',
  building: 'Building',
  deploying: 'Deploying',
  verifying: 'Checking that it speaks MCP',
  live: 'Live',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function statusLabel(status: DeploymentStatus): string {
  return HEADLINES[status];
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

type BannerProps = {
  deployment: DeploymentDoc;
  onCancel?: () => void;
  onRetry?: () => void;
  busy: boolean;
  actionError: string | null;
};

export function StatusBanner({
  deployment,
  onCancel,
  onRetry,
  busy,
  actionError,
}: BannerProps) {
  const { status } = deployment;
  const running = !isFinal(status);
  const now = useNow(running ? 1000 : null);
  const end = deployment.finishedAt
    ? Date.parse(deployment.finishedAt)
    : running
      ? now
      : Date.parse(deployment.updatedAt);
  const elapsed = end - Date.parse(deployment.createdAt);
  const failedStep = deployment.error?.step;
  return (
    <div
      className={`status-banner status-${status}`}
      data-testid="deployment-status"
      data-status={status}
      role="status"
    >
      <span className="status-icon" aria-hidden="true" />
      <div className="status-text">
        <strong>
          {HEADLINES[status]}
          {status === 'failed' && failedStep ? ` at ${failedStep}` : ''}
          {running ? '…' : ''}
        </strong>
        <span className="muted">
          {running ? 'Running for ' : 'Took '}
          {formatDuration(elapsed)}
        </span>
        {actionError && <span className="field-error">{actionError}</span>}
      </div>
      <div className="status-actions">
        {running && onCancel && (
          <button
            type="button"
            className="button"
            data-testid="deploy-cancel"
            onClick={onCancel}
            disabled={busy}
          >
            Cancel
          </button>
        )}
        {(status === 'failed' || status === 'cancelled') && onRetry && (
          <button
            type="button"
            className="button primary"
            data-testid="deploy-retry"
            onClick={onRetry}
            disabled={busy}
          >
            Retry
          </button>
        )}
      </div>
    </div>
  );
}

const STEP_LABELS: Record<Step['name'], string> = {
  source: 'Source',
  build: 'Build',
  deploy: 'Deploy',
  verify: 'Verify',
};

export function StepTimeline({ steps }: { steps: Step[] }) {
  const now = useNow(steps.some((s) => s.status === 'running') ? 1000 : null);
  return (
    <ol className="steps" aria-label="Steps">
      {steps.map((step) => {
        const started = step.startedAt ? Date.parse(step.startedAt) : null;
        const finished = step.finishedAt ? Date.parse(step.finishedAt) : null;
        const duration = started === null ? null : (finished ?? now) - started;
        return (
          <li
            key={step.name}
            className={`step step-${step.status}`}
            data-step={step.name}
          >
            <span className="step-icon" aria-hidden="true" />
            <span className="step-name">{STEP_LABELS[step.name]}</span>
            <span className="step-meta">
              {step.status === 'pending'
                ? 'waiting'
                : step.status === 'skipped'
                  ? 'skipped'
                  : duration !== null
                    ? formatDuration(duration)
                    : step.status}
            </span>
            <span className="visually-hidden">{step.status}</span>
          </li>
        );
      })}
    </ol>
  );
}

export function FailurePanel({ deployment }: { deployment: DeploymentDoc }) {
  const error = deployment.error;
  if (!error) return null;
  return (
    <section className="card failure" aria-labelledby="failure-title">
      <h2 id="failure-title">
        The {STEP_LABELS[error.step]?.toLowerCase() ?? error.step} step failed
      </h2>
      <p className="failure-reason" data-testid="failure-reason">
        {error.message}
      </p>
      {error.tail.length > 0 && (
        <>
          <h3>Last lines of the step</h3>
          <pre className="tail">
            {error.tail.map((line, i) => (
              <div key={i}>
                <Spans spans={renderAnsi(line, 2000).spans} />
              </div>
            ))}
          </pre>
        </>
      )}
    </section>
  );
}
