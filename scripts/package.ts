// Makes dist/functions: the one source folder every Cloud Function is
// deployed from (terraform/functions.tf zips it). Our own workspaces are
// bundled in; npm dependencies stay external and are installed by Cloud
// Build from the exact versions this repository was tested with.
import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type PackageJson = {
  name: string;
  version?: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
};
type Lockfile = { packages: Record<string, { version?: string }> };

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'functions');

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}

// The version npm installed for a dependency of the functions workspace:
// its own node_modules first, then the hoisted one.
function lockedVersions(
  dependencies: Record<string, string>,
  lockfile: Lockfile,
): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const name of Object.keys(dependencies).sort()) {
    const entry =
      lockfile.packages[`functions/node_modules/${name}`] ??
      lockfile.packages[`node_modules/${name}`];
    if (!entry?.version) {
      throw new Error(`${name} is not in package-lock.json; run npm install`);
    }
    versions[name] = entry.version;
  }
  return versions;
}

// "@scope/name/sub" and "name/sub" to the package name.
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

// Bundles workspaces, leaves dependencies to npm, and refuses any other
// package: one that is only hoisted from another workspace would be missing
// in Cloud Functions.
function dependencyBoundary(
  workspaces: Set<string>,
  dependencies: Set<string>,
): Plugin {
  return {
    name: 'dependency-boundary',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = packageName(args.path);
        if (workspaces.has(name)) return undefined;
        if (
          dependencies.has(name) ||
          args.path.startsWith('node:') ||
          builtinModules.includes(name)
        ) {
          return { path: args.path, external: true };
        }
        return {
          errors: [
            {
              text: `${name} is imported by ${args.importer} but is not a dependency in functions/package.json`,
            },
          ],
        };
      });
    },
  };
}

async function main() {
  const rootPackage = readJson<PackageJson>('package.json');
  const functionsPackage = readJson<PackageJson>('functions/package.json');
  const dependencies = functionsPackage.dependencies ?? {};
  const workspaces = new Set(
    (rootPackage.workspaces ?? []).map(
      (dir) => readJson<PackageJson>(join(dir, 'package.json')).name,
    ),
  );

  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'functions/src/index.ts')],
    outfile: join(outDir, 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [
      dependencyBoundary(workspaces, new Set(Object.keys(dependencies))),
    ],
  });

  const manifest = {
    name: 'sigyl-functions',
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '22' },
    dependencies: lockedVersions(dependencies, readJson('package-lock.json')),
  };
  await writeFile(
    join(outDir, 'package.json'),
    JSON.stringify(manifest, null, 2) + '\n',
  );
  console.log(`Packaged the functions in ${outDir}`);
}

await main().catch((error: unknown) => {
  // esbuild has already printed its own errors, with their locations.
  if (error instanceof Error && 'errors' in error) process.exit(1);
  throw error;
});
