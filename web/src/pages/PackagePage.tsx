import type {
  DeploymentDoc,
  PackageDoc,
  Source,
  Visibility,
} from '@sigyl/types';
import { isFinal } from '@sigyl/types';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import {
  Link,
  useLocation,
  useNavigate,
  useParams,
  useSearchParams,
} from 'react-router-dom';
import {
  ApiFailure,
  cancelDeployment,
  createDeployment,
  updatePackage,
} from '../api.ts';
import {
  FailurePanel,
  formatDuration,
  StatusBanner,
  statusLabel,
  StepTimeline,
} from '../components/DeploymentStatus.tsx';
import { LivePanel } from '../components/LivePanel.tsx';
import { LogViewer } from '../components/LogViewer.tsx';
import {
  useDeployment,
  useDeploymentsOf,
  usePackage,
  type WithId,
} from '../data.ts';
import { useLogStream } from '../logs/useLogStream.ts';
import { stepsWithBuildProgress } from '../steps.ts';

export function PackagePage({ uid }: { uid: string }) {
  const { packageId = '' } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const pkg = usePackage(packageId);
  const pkgValue = pkg.state === 'ready' ? pkg.value : null;
  // An earlier deployment when chosen from the list, else the current one.
  // Right after a deploy, the wizard passes the new deployment's id, so both
  // documents load side by side.
  const justCreated = (useLocation().state as { deploymentId?: string } | null)
    ?.deploymentId;
  const deploymentId =
    params.get('deployment') ??
    pkgValue?.currentDeploymentId ??
    justCreated ??
    null;
  const deployment = useDeployment(deploymentId);
  const dep = deployment.state === 'ready' ? deployment.value : null;
  // The log starts loading with the deployment, not after it.
  const stream = useLogStream(deploymentId);
  const timeline = useMemo(
    () => (dep ? stepsWithBuildProgress(dep.steps, stream.store.lines) : []),
    // The store changes in place; its version says when.
    [dep, stream.version],
  );
  const history = useDeploymentsOf(packageId, pkgValue ? uid : null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  useEffect(() => {
    const name = pkgValue?.name ?? 'Package';
    document.title = dep
      ? `${statusLabel(dep.status)} · ${name} · Sigyl`
      : `${name} · Sigyl`;
  }, [dep, pkgValue?.name]);

  if (pkg.state === 'missing') {
    return (
      <main className="page">
        <h1>Package not found</h1>
        <p>
          There is no package <code>{packageId}</code> that you can see.{' '}
          <Link to="/deploy">Deploy one</Link>.
        </p>
      </main>
    );
  }
  if (!pkgValue) {
    return (
      <main className="page">
        <p className="muted" aria-live="polite">
          Loading package…
        </p>
      </main>
    );
  }

  const isOwner = pkgValue.ownerId === uid;
  const act = (work: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    work()
      .catch((e: unknown) =>
        setActionError(e instanceof Error ? e.message : String(e)),
      )
      .finally(() => setBusy(false));
  };
  const cancel = () => act(() => cancelDeployment(deploymentId!));
  const retry = () =>
    act(async () => {
      const response = await createDeployment({
        source: dep!.source,
        package: { name: pkgValue.name },
        packageId,
        ...(dep!.run ? { run: dep!.run } : {}),
      });
      await navigate(response.pageUrl);
    });

  const newestLine = stream.store.lines.at(-1)?.ts ?? null;
  const lastLineAt = latest(dep?.lastLineAt ?? null, newestLine);
  const showsLive =
    dep?.status === 'live' && pkgValue.liveDeploymentId === deploymentId;

  return (
    <main className="page">
      <PackageHeader pkg={pkgValue} packageId={packageId} editable={isOwner} />

      {deploymentId === null && (
        <p className="muted">This package has no deployment yet.</p>
      )}
      {deploymentId !== null && !dep && (
        <p className="muted" aria-live="polite">
          {deployment.state === 'missing'
            ? 'This deployment cannot be found.'
            : 'Loading deployment…'}
        </p>
      )}
      {dep && (
        <>
          {params.get('deployment') &&
            params.get('deployment') !== pkgValue.currentDeploymentId && (
              <p className="notice">
                You are looking at an earlier deployment.{' '}
                <Link to={`/mcp/${packageId}`}>Show the current one</Link>
              </p>
            )}
          <StatusBanner
            deployment={dep}
            busy={busy}
            actionError={actionError}
            onCancel={isOwner ? cancel : undefined}
            onRetry={isOwner ? retry : undefined}
          />
          <StepTimeline steps={timeline} />
          {showsLive && pkgValue.url && (
            <LivePanel
              url={dep.url ?? pkgValue.url}
              slug={pkgValue.slug}
              tools={pkgValue.tools}
            />
          )}
          {dep.status === 'live' && !showsLive && dep.url && (
            <p className="notice">
              This deployment went live at <code>{dep.url}</code>; a newer one
              has replaced it.
            </p>
          )}
          {dep.status === 'failed' && <FailurePanel deployment={dep} />}
          <LogViewer
            key={deploymentId}
            stream={stream}
            stats={dep.logStats}
            lastLineAt={lastLineAt}
            running={!isFinal(dep.status)}
            fileName={`${pkgValue.slug}-${deploymentId}.log`}
          />
          {dep.logStats?.omitted > 0 && (
            <p className="muted">
              {dep.logStats.omitted.toLocaleString()} lines past the log limit
              were counted but not stored.
            </p>
          )}
        </>
      )}

      <DeploymentHistory
        packageId={packageId}
        deployments={history}
        shown={deploymentId}
      />
    </main>
  );
}

function latest(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) > Date.parse(b) ? a : b;
}

export function describeSource(source: Source): string {
  if (source.type === 'npm') return `npm ${source.spec}`;
  const place = source.url.replace(/^https:\/\/github\.com\//, '');
  const ref = source.ref ? `@${source.ref}` : '';
  const dir = source.subdirectory ? ` /${source.subdirectory}` : '';
  return `${source.type === 'github' ? 'GitHub' : 'git'} ${place}${ref}${dir}`;
}

function PackageHeader({
  pkg,
  packageId,
  editable,
}: {
  pkg: WithId<PackageDoc>;
  packageId: string;
  editable: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(pkg.name);
  const [description, setDescription] = useState(pkg.description);
  const [visibility, setVisibility] = useState<Visibility>(pkg.visibility);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<{ field?: string; message: string }>();

  const startEditing = () => {
    setName(pkg.name);
    setDescription(pkg.description);
    setVisibility(pkg.visibility);
    setError(undefined);
    setEditing(true);
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    try {
      await updatePackage(packageId, { name, description, visibility });
      setEditing(false);
    } catch (e) {
      setError(
        e instanceof ApiFailure
          ? { field: e.field, message: e.message }
          : { message: String(e) },
      );
    } finally {
      setSaving(false);
    }
  };

  if (editing) {
    return (
      <form className="card package-edit" onSubmit={(e) => void save(e)}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} />
          {error?.field === 'name' && (
            <p className="field-error">{error.message}</p>
          )}
        </label>
        <label>
          Description
          <textarea
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
          {error?.field === 'description' && (
            <p className="field-error">{error.message}</p>
          )}
        </label>
        <label>
          Visibility
          <select
            value={visibility}
            onChange={(e) => setVisibility(e.target.value as Visibility)}
          >
            <option value="private">Private: only you</option>
            <option value="public">Public: anyone with the link</option>
          </select>
        </label>
        {error && !['name', 'description'].includes(error.field ?? '') && (
          <p className="field-error">{error.message}</p>
        )}
        <div className="actions">
          <button type="submit" className="button primary" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          <button
            type="button"
            className="button"
            onClick={() => setEditing(false)}
          >
            Cancel
          </button>
        </div>
      </form>
    );
  }

  return (
    <header className="package-header">
      <div className="package-title">
        <h1>{pkg.name}</h1>
        <span className="badge">{pkg.slug}</span>
        <span className="badge subtle">{pkg.visibility}</span>
        {editable && (
          <button type="button" className="button small" onClick={startEditing}>
            Edit
          </button>
        )}
      </div>
      {pkg.description && <p className="description">{pkg.description}</p>}
      <p className="source">
        <span className="muted">Source</span>{' '}
        <code>{describeSource(pkg.source)}</code>
      </p>
    </header>
  );
}

function DeploymentHistory({
  packageId,
  deployments,
  shown,
}: {
  packageId: string;
  deployments: WithId<DeploymentDoc>[];
  shown: string | null;
}) {
  if (deployments.length < 2) return null;
  return (
    <section className="history" aria-labelledby="history-title">
      <h2 id="history-title">Deployments</h2>
      <ul>
        {deployments.map((d) => {
          const took = d.finishedAt
            ? formatDuration(Date.parse(d.finishedAt) - Date.parse(d.createdAt))
            : null;
          return (
            <li key={d.id} className={d.id === shown ? 'shown' : undefined}>
              <Link
                to={`/mcp/${packageId}?deployment=${d.id}`}
                aria-current={d.id === shown ? 'page' : undefined}
              >
                <span className={`pill status-${d.status}`}>
                  {statusLabel(d.status)}
                </span>
                <span>{new Date(d.createdAt).toLocaleString()}</span>
                <span className="muted">{took ?? 'running'}</span>
                <code className="muted">{d.id}</code>
              </Link>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
