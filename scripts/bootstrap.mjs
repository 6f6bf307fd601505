// The first thing `npm start`, `npm test`, `npm run bench` and
// `npm run package` run: plain Node, no dependencies, so that it works on a
// fresh clone. It installs what is missing, or says exactly what to install.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const command = process.argv[2];
const isRoot = process.getuid?.() === 0;

function fail(message) {
  console.error(`\n${message}\n`);
  process.exit(1);
}

function has(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

function aptInstall(packages, why) {
  if (!isRoot || !has('apt-get')) {
    fail(
      `${why} Install it with: sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  console.log(`Installing ${packages.join(' ')} with apt (${why})`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  fail(`Sigyl needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
}

// npm packages: install when missing or older than the lock file.
const installed = join(root, 'node_modules/.package-lock.json');
if (
  !existsSync(installed) ||
  statSync(installed).mtimeMs <
    statSync(join(root, 'package-lock.json')).mtimeMs
) {
  console.log(
    'Installing npm packages (npm ci, about a minute the first time)…',
  );
  // No install scripts: nothing here needs one, and the only native addon
  // (re2, optional in firebase-tools) would take minutes to compile.
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
  });
}

if (command === 'start' || command === 'test' || command === 'bench') {
  if (!has('java')) {
    aptInstall(
      ['openjdk-17-jre-headless'],
      'The Firestore and Pub/Sub emulators need Java.',
    );
  }
  if (!has('git'))
    aptInstall(['git'], 'The local builder clones repositories with git.');
}
if (
  (command === 'test' || command === 'bench') &&
  !existsSync('/usr/bin/chromium')
) {
  aptInstall(['chromium'], 'Browser tests drive Chromium.');
}

const tsx = ['--import', 'tsx'];
const runs = {
  start: [[process.execPath, [...tsx, 'scripts/start.ts']]],
  test: [[process.execPath, ['node_modules/vitest/vitest.mjs', 'run']]],
  bench: [[process.execPath, [...tsx, 'scripts/bench/index.ts']]],
  package: [[process.execPath, [...tsx, 'scripts/package.ts']]],
};
const steps = runs[command];
if (!steps)
  fail(`usage: node scripts/bootstrap.mjs ${Object.keys(runs).join('|')}`);
// Signals go to the running step, which stops what it started; this
// process then exits with the step's code.
let child = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child?.kill(signal));
}
for (const [program, args] of steps) {
  child = spawn(program, [...args, ...process.argv.slice(3)], {
    cwd: root,
    stdio: 'inherit',
  });
  const code = await new Promise((resolve) =>
    child.once('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))),
  );
  if (code !== 0) process.exit(code);
}
