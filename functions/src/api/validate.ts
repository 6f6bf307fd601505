import { statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig, Source } from '@sigyl/types';
import { ID_PATTERN } from '../ids.ts';
import { invalid } from './errors.ts';

// Every field that reaches a process or a build step is checked against a
// strict pattern here, so that a bad value is a clear 400 and never a
// failed (or subverted) build. Nothing is ever put into a shell string.

export type ValidRequest = {
  source: Source;
  packageName: string;
  description: string;
  packageId: string | null;
  run: RunConfig | null;
  env: Record<string, string>;
  secrets: Record<string, string>;
};

const GITHUB_URL =
  /^https:\/\/github\.com\/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9_.-]{1,100}?)(?:\.git)?\/?$/;
const REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
const PATH_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const NPM_NAME =
  /^(?:@[a-z0-9][a-z0-9._-]{0,100}\/)?[a-z0-9][a-z0-9._-]{0,100}$/;
const NPM_VERSION = /^[~^]?[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const RESERVED_ENV = new Set([
  'PORT',
  'K_SERVICE',
  'K_REVISION',
  'K_CONFIGURATION',
]);
const HTTP_PATH = /^\/[A-Za-z0-9._~/-]{0,100}$/;

export function validateCreateRequest(
  body: unknown,
  mode: 'local' | 'cloud',
): ValidRequest {
  const request = object(body, 'body');
  const pkg = object(request.package, 'package');
  const packageName = text(pkg.name, 'package.name', 1, 80).trim();
  if (!packageName) throw invalid('package.name', 'Give the package a name.');
  const description =
    pkg.description === undefined
      ? ''
      : text(pkg.description, 'package.description', 0, 500);
  let packageId: string | null = null;
  if (request.packageId !== undefined) {
    packageId = text(request.packageId, 'packageId', 1, 32);
    if (!ID_PATTERN.test(packageId)) {
      throw invalid(
        'packageId',
        'packageId must be lowercase letters and digits.',
      );
    }
  }
  const env = variables(request.env, 'env', 4096);
  const secrets = variables(request.secrets, 'secrets', 64 * 1024);
  for (const name of Object.keys(secrets)) {
    if (name in env) {
      throw invalid(
        `secrets.${name}`,
        `${name} is given both as a variable and as a secret.`,
      );
    }
  }
  return {
    source: validateSource(request.source, mode),
    packageName,
    description,
    packageId,
    run: request.run === undefined ? null : validateRun(request.run),
    env,
    secrets,
  };
}

export function validateSource(
  value: unknown,
  mode: 'local' | 'cloud',
): Source {
  const source = object(value, 'source');
  switch (source.type) {
    case 'github': {
      const url = text(source.url, 'source.url', 1, 300);
      if (!GITHUB_URL.test(url)) {
        throw invalid(
          'source.url',
          'Use a GitHub repository URL like https://github.com/owner/repo.',
        );
      }
      return {
        type: 'github',
        url: url.replace(/\/$/, ''),
        ...refAndSubdirectory(source),
      };
    }
    case 'npm': {
      const spec = text(source.spec, 'source.spec', 1, 250).trim();
      parseNpmSpec(spec);
      return { type: 'npm', spec };
    }
    case 'git': {
      if (mode !== 'local') {
        throw invalid(
          'source.type',
          'Local git repositories can only be deployed by a local Sigyl.',
        );
      }
      const url = text(source.url, 'source.url', 1, 1000);
      const path = localRepositoryPath(url);
      return { type: 'git', url: path, ...refAndSubdirectory(source) };
    }
    default:
      throw invalid(
        'source.type',
        'source.type must be "github", "npm" or "git".',
      );
  }
}

export function parseNpmSpec(spec: string): {
  name: string;
  version: string | null;
} {
  const at = spec.indexOf('@', 1);
  const name = at === -1 ? spec : spec.slice(0, at);
  const version = at === -1 ? null : spec.slice(at + 1);
  if (!NPM_NAME.test(name) || name.length > 214) {
    throw invalid(
      'source.spec',
      'Use an npm package name with an optional version, like @scope/name@1.2.3.',
    );
  }
  if (version !== null && !NPM_VERSION.test(version)) {
    throw invalid(
      'source.spec',
      `"${version}" is not a version or tag npm can install here (use 1.2.3, ^1.2, or a tag like latest).`,
    );
  }
  return { name, version };
}

function refAndSubdirectory(source: Record<string, unknown>) {
  const result: { ref?: string; subdirectory?: string } = {};
  if (source.ref !== undefined && source.ref !== '') {
    const ref = text(source.ref, 'source.ref', 1, 200);
    if (
      !REF.test(ref) ||
      ref.includes('..') ||
      ref.includes('//') ||
      ref.endsWith('/') ||
      ref.endsWith('.') ||
      ref.endsWith('.lock')
    ) {
      throw invalid(
        'source.ref',
        'source.ref must be a branch, tag or commit: letters, digits, ".", "_", "-" and "/", not starting with "-".',
      );
    }
    result.ref = ref;
  }
  if (source.subdirectory !== undefined && source.subdirectory !== '') {
    const subdirectory = text(
      source.subdirectory,
      'source.subdirectory',
      1,
      300,
    )
      .replace(/^\.\//, '')
      .replace(/\/$/, '');
    const segments = subdirectory.split('/');
    if (!segments.every((s) => PATH_SEGMENT.test(s) && s !== '..')) {
      throw invalid(
        'source.subdirectory',
        'source.subdirectory must be a relative folder inside the repository, like packages/server.',
      );
    }
    result.subdirectory = subdirectory;
  }
  return result;
}

function localRepositoryPath(url: string): string {
  if (/[\0\n\r]/.test(url)) {
    throw invalid('source.url', 'source.url has a control character in it.');
  }
  let path: string;
  try {
    path = url.startsWith('file://') ? fileURLToPath(url) : url;
  } catch {
    throw invalid('source.url', 'source.url is not a valid file:// URL.');
  }
  if (!isAbsolute(path)) {
    throw invalid(
      'source.url',
      'Give the absolute path of a git repository, like /home/me/my-server.',
    );
  }
  path = normalize(path);
  if (!isDirectory(path)) {
    throw invalid('source.url', `${path} is not a folder on this machine.`);
  }
  if (!isDirectory(join(path, '.git')) && !isFile(join(path, 'HEAD'))) {
    throw invalid(
      'source.url',
      `${path} is not a git repository (no .git folder).`,
    );
  }
  return path;
}

function validateRun(value: unknown): RunConfig {
  const run = object(value, 'run');
  if (run.transport !== 'stdio' && run.transport !== 'http') {
    throw invalid('run.transport', 'run.transport must be "stdio" or "http".');
  }
  const result: RunConfig = { transport: run.transport };
  if (run.args !== undefined) {
    if (!Array.isArray(run.args) || run.args.length > 32) {
      throw invalid(
        'run.args',
        'run.args must be a list of at most 32 strings.',
      );
    }
    result.args = run.args.map((arg, i) => {
      const value = text(arg, `run.args.${i}`, 0, 500);
      if (/[\0\n\r]/.test(value)) {
        throw invalid(
          `run.args.${i}`,
          'Arguments cannot hold control characters.',
        );
      }
      return value;
    });
  }
  if (run.port !== undefined) {
    if (
      !Number.isInteger(run.port) ||
      (run.port as number) < 1 ||
      (run.port as number) > 65535
    ) {
      throw invalid(
        'run.port',
        'run.port must be a whole number from 1 to 65535.',
      );
    }
    result.port = run.port as number;
  }
  if (run.path !== undefined) {
    const path = text(run.path, 'run.path', 1, 101);
    if (!HTTP_PATH.test(path)) {
      throw invalid('run.path', 'run.path must be a URL path like /mcp.');
    }
    result.path = path;
  }
  return result;
}

function variables(value: unknown, field: string, maxValue: number) {
  if (value === undefined) return {};
  const entries = Object.entries(object(value, field));
  if (entries.length > 64) throw invalid(field, `At most 64 ${field} entries.`);
  const result: Record<string, string> = {};
  for (const [name, raw] of entries) {
    if (!ENV_NAME.test(name)) {
      throw invalid(
        `${field}.${name}`,
        `"${name}" is not a valid environment variable name.`,
      );
    }
    if (RESERVED_ENV.has(name) || name.startsWith('SIGYL_')) {
      throw invalid(
        `${field}.${name}`,
        `${name} is set by Sigyl and cannot be given.`,
      );
    }
    result[name] = text(raw, `${field}.${name}`, 0, maxValue);
  }
  return result;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, `${field} must be an object.`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string')
    throw invalid(field, `${field} must be a string.`);
  if (value.length < min) throw invalid(field, `${field} is empty.`);
  if (value.length > max) {
    throw invalid(field, `${field} is longer than ${max} characters.`);
  }
  return value;
}

function isDirectory(path: string) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
