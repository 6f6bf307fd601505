import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortFree } from './stack/processes.ts';

// `npm start` as a user runs it (on free ports, in a home of its own, so it
// can run beside a developer's own copy): ready line, every endpoint
// answering, a clean stop on Ctrl-C, and the data back on the next start.
const ROOT = join(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'sigyl-start-'));
let child: ChildProcess | null = null;

type Local = Record<'web' | 'api' | 'firestore' | 'pubsub' | 'auth', string> & {
  projectId: string;
};

async function start(): Promise<{
  child: ChildProcess;
  local: Local;
  output: string;
}> {
  const started = spawn(process.execPath, ['scripts/bootstrap.mjs', 'start'], {
    cwd: ROOT,
    env: { ...process.env, SIGYL_HOME: home, SIGYL_PORTS: 'free' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes('Sigyl is ready')) resolve();
    };
    started.stdout!.on('data', onData);
    started.stderr!.on('data', (data: Buffer) => (output += data.toString()));
    started.once('exit', (code) =>
      reject(new Error(`exited ${code}:\n${output}`)),
    );
  });
  const local = JSON.parse(
    readFileSync(join(home, 'local.json'), 'utf8'),
  ) as Local;
  return { child: started, local, output };
}

async function stop(started: ChildProcess) {
  const exited = new Promise((resolve) => started.once('exit', resolve));
  started.kill('SIGINT');
  await exited;
  child = null;
}

const USER = { email: 'kept@example.com', password: 'password1' };

async function authCall(auth: string, method: 'signUp' | 'signInWithPassword') {
  const response = await fetch(
    `${auth}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=local`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...USER, returnSecureToken: true }),
    },
  );
  expect(response.status, `${method}: ${await response.clone().text()}`).toBe(
    200,
  );
  return (await response.json()) as { localId: string };
}

afterAll(async () => {
  if (child) await stop(child);
});

describe('npm start', () => {
  it('runs every part, stops them all on Ctrl-C, and keeps the data', async () => {
    const first = await start();
    const { local } = first;
    expect(first.output).toMatch(/^Sigyl is ready/m);

    expect((await fetch(local.web)).status).toBe(200);
    expect((await fetch(`${local.api}/healthz`)).status).toBe(200);
    expect((await fetch(local.firestore)).status).toBe(200);
    expect(
      (await fetch(`${local.pubsub}/v1/projects/${local.projectId}/topics`))
        .status,
    ).toBe(200);
    expect((await fetch(local.auth)).status).toBeLessThan(500);

    // Something to find again after the restart.
    const doc = `${local.firestore}/v1/projects/${local.projectId}/databases/(default)/documents/notes?documentId=kept`;
    const write = await fetch(doc, {
      method: 'POST',
      headers: {
        authorization: 'Bearer owner',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ fields: { text: { stringValue: 'still here' } } }),
    });
    expect(write.status).toBe(200);

    const user = await authCall(local.auth, 'signUp');

    await stop(first.child);
    for (const url of Object.values(local).filter((v) =>
      v.startsWith('http'),
    )) {
      expect(await isPortFree(Number(new URL(url).port)), url).toBe(true);
    }

    // Nothing the stack started is left (the Auth emulator's arguments and
    // the second start's Firestore import name this home folder).
    const leftovers = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(home));
    expect(leftovers).toEqual([]);

    const second = await start();
    const read = await fetch(
      `${second.local.firestore}/v1/projects/${second.local.projectId}/databases/(default)/documents/notes/kept`,
      { headers: { authorization: 'Bearer owner' } },
    );
    expect(read.status).toBe(200);
    expect(JSON.stringify(await read.json())).toContain('still here');
    // The local user is the same user after a restart, so the packages it
    // owns are still its own.
    expect(
      (await authCall(second.local.auth, 'signInWithPassword')).localId,
    ).toBe(user.localId);
    await stop(second.child);
  }, 240_000);
});
