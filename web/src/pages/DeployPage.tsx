import type { Source, SourceType } from '@sigyl/types';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { ApiFailure, createDeployment } from '../api.ts';
import { config } from '../config.ts';
import { nameFromSource, slugify } from '../slug.ts';

type Pair = { key: string; value: string };

const SOURCE_LABELS: Record<SourceType, string> = {
  github: 'GitHub repository',
  npm: 'npm package',
  git: 'Git repository on this machine',
};

export function DeployPage() {
  const navigate = useNavigate();
  const [type, setType] = useState<SourceType>('github');
  const [url, setUrl] = useState('');
  const [spec, setSpec] = useState('');
  const [ref, setRef] = useState('');
  const [subdirectory, setSubdirectory] = useState('');
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [env, setEnv] = useState<Pair[]>([]);
  const [secrets, setSecrets] = useState<Pair[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitting, setSubmitting] = useState(false);

  // An error goes away as soon as its field is edited.
  const editing =
    (key: string, set: (value: string) => void) => (value: string) => {
      set(value);
      if (errors[key] || errors.form) {
        const { [key]: _, form: __, ...rest } = errors;
        setErrors(rest);
      }
    };
  const sourceText = type === 'npm' ? spec : url;
  const shownName = nameTouched ? name : nameFromSource(sourceText);
  const slug = slugify(shownName);

  const source = (): Source =>
    type === 'npm'
      ? { type, spec: spec.trim() }
      : {
          type,
          url: url.trim(),
          ...(ref.trim() ? { ref: ref.trim() } : {}),
          ...(subdirectory.trim() ? { subdirectory: subdirectory.trim() } : {}),
        };

  const check = (): Record<string, string> => {
    const found: Record<string, string> = {};
    if (type === 'npm' && !spec.trim()) {
      found['source.spec'] = 'Enter an npm package, like left-pad@1.3.0.';
    }
    if (type !== 'npm' && !url.trim()) {
      found['source.url'] =
        type === 'git'
          ? 'Enter the path of a git repository.'
          : 'Enter a GitHub repository URL.';
    }
    if (!slug) found['package.name'] = 'Give the package a name.';
    for (const [field, pairs] of [
      ['env', env],
      ['secrets', secrets],
    ] as const) {
      if (pairs.some((p) => p.value && !p.key.trim())) {
        found[field] = 'Every value needs a name.';
      }
    }
    return found;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = check();
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setSubmitting(true);
    try {
      const response = await createDeployment({
        source: source(),
        package: {
          name: shownName.trim(),
          ...(description.trim() ? { description: description.trim() } : {}),
        },
        ...(env.length ? { env: toRecord(env) } : {}),
        ...(secrets.length ? { secrets: toRecord(secrets) } : {}),
      });
      // The deployment's id lets the package page start reading it at once.
      await navigate(response.pageUrl, {
        state: { deploymentId: response.deploymentId },
      });
    } catch (error) {
      setSubmitting(false);
      if (error instanceof ApiFailure) {
        setErrors({ [fieldKey(error.field)]: error.message });
      } else {
        setErrors({ form: String(error) });
      }
    }
  };

  const fieldError = (key: string) =>
    errors[key] ? (
      <p className="field-error" id={`${key}-error`} role="alert">
        {errors[key]}
      </p>
    ) : null;
  const describedBy = (key: string) =>
    errors[key] ? `${key}-error` : undefined;

  return (
    <main className="page narrow">
      <h1>Deploy an MCP server</h1>
      <p className="lead">
        Point Sigyl at a repository or an npm package. It builds it, runs it and
        checks that it speaks MCP; you watch every step live.
      </p>
      <form className="card form" onSubmit={(e) => void submit(e)} noValidate>
        {fieldError('form')}
        <fieldset>
          <legend>Source</legend>
          <label>
            Type
            <select
              data-testid="source-type"
              value={type}
              onChange={(e) => setType(e.target.value as SourceType)}
            >
              <option value="github">{SOURCE_LABELS.github}</option>
              <option value="npm">{SOURCE_LABELS.npm}</option>
              {config.local && <option value="git">{SOURCE_LABELS.git}</option>}
            </select>
          </label>
          {type === 'npm' ? (
            <label>
              Package
              <input
                data-testid="source-spec"
                placeholder="@modelcontextprotocol/server-everything@2026.8.31"
                value={spec}
                onChange={(e) =>
                  editing('source.spec', setSpec)(e.target.value)
                }
                aria-invalid={!!errors['source.spec']}
                aria-describedby={describedBy('source.spec')}
                autoFocus
              />
              {fieldError('source.spec')}
            </label>
          ) : (
            <>
              <label>
                {type === 'git' ? 'Repository path' : 'Repository URL'}
                <input
                  data-testid="source-url"
                  placeholder={
                    type === 'git'
                      ? '/home/me/src/my-server'
                      : 'https://github.com/owner/repo'
                  }
                  value={url}
                  onChange={(e) =>
                    editing('source.url', setUrl)(e.target.value)
                  }
                  aria-invalid={!!errors['source.url']}
                  aria-describedby={describedBy('source.url')}
                  autoFocus
                />
                {fieldError('source.url')}
              </label>
              <div className="row">
                <label>
                  Branch, tag or commit
                  <input
                    data-testid="source-ref"
                    placeholder="main"
                    value={ref}
                    onChange={(e) =>
                      editing('source.ref', setRef)(e.target.value)
                    }
                    aria-invalid={!!errors['source.ref']}
                    aria-describedby={describedBy('source.ref')}
                  />
                  {fieldError('source.ref')}
                </label>
                <label>
                  Subdirectory
                  <input
                    data-testid="source-subdirectory"
                    placeholder="packages/server"
                    value={subdirectory}
                    onChange={(e) =>
                      editing(
                        'source.subdirectory',
                        setSubdirectory,
                      )(e.target.value)
                    }
                    aria-invalid={!!errors['source.subdirectory']}
                    aria-describedby={describedBy('source.subdirectory')}
                  />
                  {fieldError('source.subdirectory')}
                </label>
              </div>
            </>
          )}
          {fieldError('source')}
        </fieldset>

        <fieldset>
          <legend>Package</legend>
          <label>
            Name
            <input
              data-testid="package-name"
              value={shownName}
              onChange={(e) => {
                setNameTouched(true);
                editing('package.name', setName)(e.target.value);
              }}
              aria-invalid={!!errors['package.name']}
              aria-describedby={describedBy('package.name')}
            />
            <span className="hint">
              {slug ? (
                <>
                  Slug: <code>{slug}</code>
                </>
              ) : (
                'The slug comes from the name.'
              )}
            </span>
            {fieldError('package.name')}
          </label>
          <label>
            <span>
              Description <span className="optional">optional</span>
            </span>
            <textarea
              data-testid="package-description"
              rows={2}
              value={description}
              onChange={(e) =>
                editing('package.description', setDescription)(e.target.value)
              }
              aria-invalid={!!errors['package.description']}
              aria-describedby={describedBy('package.description')}
            />
            {fieldError('package.description')}
          </label>
        </fieldset>

        <PairsEditor
          legend="Environment variables"
          pairs={env}
          onChange={setEnv}
          secret={false}
        />
        {fieldError('env')}
        <PairsEditor
          legend="Secrets"
          pairs={secrets}
          onChange={setSecrets}
          secret
        />
        {fieldError('secrets')}

        <button
          type="submit"
          className="button primary large"
          data-testid="deploy-submit"
          disabled={submitting}
        >
          {submitting ? 'Deploying…' : 'Deploy'}
        </button>
      </form>
    </main>
  );
}

function PairsEditor({
  legend,
  pairs,
  onChange,
  secret,
}: {
  legend: string;
  pairs: Pair[];
  onChange(pairs: Pair[]): void;
  secret: boolean;
}) {
  const set = (index: number, change: Partial<Pair>) =>
    onChange(pairs.map((p, i) => (i === index ? { ...p, ...change } : p)));
  return (
    <fieldset>
      <legend>
        {legend} <span className="optional">optional</span>
      </legend>
      {secret && (
        <p className="hint">
          Secret values reach the running server only and are masked in logs.
        </p>
      )}
      {pairs.map((pair, index) => (
        <div className="pair" key={index}>
          <input
            aria-label={`${legend} name ${index + 1}`}
            placeholder="NAME"
            value={pair.key}
            onChange={(e) => set(index, { key: e.target.value })}
          />
          <input
            aria-label={`${legend} value ${index + 1}`}
            placeholder="value"
            type={secret ? 'password' : 'text'}
            autoComplete="off"
            value={pair.value}
            onChange={(e) => set(index, { value: e.target.value })}
          />
          <button
            type="button"
            className="icon-button"
            aria-label={`Remove ${legend.toLowerCase()} ${index + 1}`}
            onClick={() => onChange(pairs.filter((_, i) => i !== index))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="button small"
        onClick={() => onChange([...pairs, { key: '', value: '' }])}
      >
        Add {secret ? 'secret' : 'variable'}
      </button>
    </fieldset>
  );
}

function toRecord(pairs: Pair[]): Record<string, string> {
  return Object.fromEntries(
    pairs.filter((p) => p.key.trim()).map((p) => [p.key.trim(), p.value]),
  );
}

// The form shows an API error next to the field it names (`source.url`), or
// under the group it belongs to (`env.PORT` under the variables).
function fieldKey(field: string | undefined): string {
  if (!field) return 'form';
  const known = [
    'source.url',
    'source.spec',
    'source.ref',
    'source.subdirectory',
    'package.name',
    'package.description',
  ];
  if (known.includes(field)) return field;
  const group = field.split('.')[0] ?? '';
  if (['env', 'secrets', 'source'].includes(group)) return group;
  if (field.startsWith('package')) return 'package.name';
  return 'form';
}
