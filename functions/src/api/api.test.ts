import { COLLECTIONS, type PackageDoc } from '@sigyl/types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signUp, useTestProject } from '../../test/env.ts';
import {
  makeRepo,
  postDeployment,
  startPipeline,
} from '../../test/pipeline.ts';
import { db } from '../firestore.ts';
import type { FunctionsHost } from '../local/host.ts';
import { MAX_IN_PROGRESS_PER_USER } from './deployments.ts';

useTestProject('api');
let host: FunctionsHost;
let alice: { uid: string; idToken: string };
let bob: { uid: string; idToken: string };

beforeAll(async () => {
  host = await startPipeline();
  bob = await signUp();
}, 60_000);
// Each test deploys as a new user, so that the limit on deployments in
// progress never links two tests.
beforeEach(async () => {
  alice = await signUp();
});
afterAll(async () => host?.stop());

const npm = (spec: string) => ({
  source: { type: 'npm', spec },
  package: { name: 'Weather' },
});

type ApiBody = Record<string, unknown> & {
  error: { code: string; message: string; field?: string };
};

async function call(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
) {
  const response = await fetch(`${host.urls.api}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as ApiBody,
  };
}

describe('POST /deployments', () => {
  it('needs a valid ID token', async () => {
    expect(
      (await postDeployment(host.urls.api, null, npm('left-pad'))).status,
    ).toBe(401);
    const forged = await postDeployment(
      host.urls.api,
      'not-a-token',
      npm('left-pad'),
    );
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('unauthenticated');
  });

  // Values that try to escape their field into a command, a path or an
  // option; each gets a 400 naming the field.
  const hostile: [string, Record<string, unknown>, string][] = [
    [
      'a spec with a shell command',
      { type: 'npm', spec: 'left-pad; rm -rf /' },
      'source.spec',
    ],
    [
      'a spec that is an option',
      { type: 'npm', spec: '--registry=http://evil' },
      'source.spec',
    ],
    [
      'a spec that is a URL',
      { type: 'npm', spec: 'https://evil.example/x.tgz' },
      'source.spec',
    ],
    [
      'a spec with a file: path',
      { type: 'npm', spec: 'file:/etc' },
      'source.spec',
    ],
    [
      'a spec with a git URL',
      { type: 'npm', spec: 'x@git+ssh://evil/x.git' },
      'source.spec',
    ],
    [
      'a version with a command',
      { type: 'npm', spec: 'left-pad@$(id)' },
      'source.spec',
    ],
    [
      'a URL off GitHub',
      { type: 'github', url: 'https://evil.example/a/b' },
      'source.url',
    ],
    [
      'a URL with a command',
      { type: 'github', url: 'https://github.com/a/b;id' },
      'source.url',
    ],
    [
      'a URL with a path after the repo',
      { type: 'github', url: 'https://github.com/a/b/../../x' },
      'source.url',
    ],
    [
      'a ref that is an option',
      {
        type: 'github',
        url: 'https://github.com/a/b',
        ref: '--upload-pack=id',
      },
      'source.ref',
    ],
    [
      'a ref with ..',
      { type: 'github', url: 'https://github.com/a/b', ref: 'main/../x' },
      'source.ref',
    ],
    [
      'a ref with a space and command',
      { type: 'github', url: 'https://github.com/a/b', ref: 'main $(id)' },
      'source.ref',
    ],
    [
      'a subdirectory going up',
      {
        type: 'github',
        url: 'https://github.com/a/b',
        subdirectory: '../../etc',
      },
      'source.subdirectory',
    ],
    [
      'an absolute subdirectory',
      { type: 'github', url: 'https://github.com/a/b', subdirectory: '/etc' },
      'source.subdirectory',
    ],
    [
      'a subdirectory with a newline',
      { type: 'github', url: 'https://github.com/a/b', subdirectory: 'a\nb' },
      'source.subdirectory',
    ],
    ['a relative git path', { type: 'git', url: '../other' }, 'source.url'],
    [
      'a git path that is not a repository',
      { type: 'git', url: '/etc' },
      'source.url',
    ],
    ['an unknown source type', { type: 'docker', url: 'x' }, 'source.type'],
  ];
  for (const [what, source, field] of hostile) {
    it(`rejects ${what}`, async () => {
      const { status, body } = await postDeployment(
        host.urls.api,
        alice.idToken,
        {
          source,
          package: { name: 'Weather' },
        },
      );
      expect(status).toBe(400);
      expect(body.error.field).toBe(field);
      expect(body.error.message.length).toBeGreaterThan(10);
    });
  }

  it('rejects bad package names, variables and run settings', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...npm('x'), package: { name: '' } }, 'package.name'],
      [{ ...npm('x'), package: { name: 'x'.repeat(81) } }, 'package.name'],
      [{ ...npm('x'), env: { 'BAD NAME': '1' } }, 'env.BAD NAME'],
      [{ ...npm('x'), env: { PORT: '1' } }, 'env.PORT'],
      [{ ...npm('x'), secrets: { TOKEN: 42 } }, 'secrets.TOKEN'],
      [
        { ...npm('x'), env: { TOKEN: 'a' }, secrets: { TOKEN: 'b' } },
        'secrets.TOKEN',
      ],
      [{ ...npm('x'), run: { transport: 'smoke' } }, 'run.transport'],
      [{ ...npm('x'), run: { transport: 'http', port: 70000 } }, 'run.port'],
      [
        { ...npm('x'), run: { transport: 'stdio', args: ['a\nb'] } },
        'run.args.0',
      ],
      [{ ...npm('x'), packageId: 'NOT-AN-ID' }, 'packageId'],
    ];
    for (const [body, field] of cases) {
      const response = await postDeployment(host.urls.api, alice.idToken, body);
      expect(response.status, field).toBe(400);
      expect(response.body.error.field).toBe(field);
    }
  });

  it('creates a package and a queued deployment, and answers at once', async () => {
    const repo = makeRepo({ 'package.json': '{"name":"x"}' });
    const { status, body } = await postDeployment(
      host.urls.api,
      alice.idToken,
      {
        source: { type: 'git', url: repo },
        package: { name: 'My Weather Server', description: 'Forecasts' },
        env: { UNITS: 'metric' },
        secrets: { API_KEY: 'sk-live-123456' },
      },
    );
    expect(status).toBe(202);
    expect(body.pageUrl).toBe(`/mcp/${body.packageId}?new=true&deploying=true`);
    const pkg = (
      await db().collection(COLLECTIONS.packages).doc(body.packageId).get()
    ).data() as PackageDoc;
    expect(pkg).toMatchObject({
      ownerId: alice.uid,
      name: 'My Weather Server',
      slug: 'my-weather-server',
      description: 'Forecasts',
      visibility: 'private',
      currentDeploymentId: body.deploymentId,
    });
    expect(pkg.serviceName).toMatch(/^mcp-my-weather-server-[0-9a-f]{8}$/);
    const deployment = await db()
      .collection(COLLECTIONS.deployments)
      .doc(body.deploymentId)
      .get();
    expect(deployment.get('env')).toEqual({ UNITS: 'metric' });
    expect(deployment.get('secretNames')).toEqual(['API_KEY']);
    // The secret's value is nowhere in Firestore.
    expect(JSON.stringify(deployment.data())).not.toContain('sk-live-123456');
    expect(JSON.stringify(pkg)).not.toContain('sk-live-123456');
  });

  it('gives a second package of the same name its own slug', async () => {
    const first = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
    );
    const second = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
    );
    const slugs = await Promise.all(
      [first, second].map(async (r) =>
        (
          await db()
            .collection(COLLECTIONS.packages)
            .doc(r.body.packageId)
            .get()
        ).get('slug'),
      ),
    );
    expect(slugs).toEqual(['weather', 'weather-2']);
  });

  it('returns the same deployment for a retried request with an Idempotency-Key', async () => {
    const headers = { 'idempotency-key': `retry-${Date.now()}` };
    const first = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
      headers,
    );
    const again = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
      headers,
    );
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    // Another user's identical key is their own.
    const other = await postDeployment(
      host.urls.api,
      bob.idToken,
      npm('left-pad'),
      headers,
    );
    expect(other.body.deploymentId).not.toBe(first.body.deploymentId);
  });

  it('redeploys an existing package only for its owner', async () => {
    const first = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
    );
    const redeploy = await postDeployment(host.urls.api, alice.idToken, {
      ...npm('left-pad'),
      packageId: first.body.packageId,
    });
    expect(redeploy.status).toBe(202);
    expect(redeploy.body.packageId).toBe(first.body.packageId);
    expect(redeploy.body.deploymentId).not.toBe(first.body.deploymentId);
    const stolen = await postDeployment(host.urls.api, bob.idToken, {
      ...npm('left-pad'),
      packageId: first.body.packageId,
    });
    expect(stolen.status).toBe(404);
  });
});

describe('reading, cancelling and editing', () => {
  it('shows a deployment to its owner only', async () => {
    const { body } = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
    );
    const own = await call(
      'GET',
      `/deployments/${body.deploymentId}`,
      alice.idToken,
    );
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      id: body.deploymentId,
      ownerId: alice.uid,
    });
    expect(
      (await call('GET', `/deployments/${body.deploymentId}`, bob.idToken))
        .status,
    ).toBe(404);
    expect(
      (await call('GET', `/deployments/${body.deploymentId}/logs`, bob.idToken))
        .status,
    ).toBe(404);
    expect(
      (
        await call(
          'POST',
          `/deployments/${body.deploymentId}/cancel`,
          bob.idToken,
        )
      ).status,
    ).toBe(404);
    expect(
      (await call('GET', `/deployments/${body.deploymentId}`, null)).status,
    ).toBe(401);
  });

  it('lets the owner edit name, description and visibility, and nothing else', async () => {
    const { body } = await postDeployment(
      host.urls.api,
      alice.idToken,
      npm('left-pad'),
    );
    const path = `/packages/${body.packageId}`;
    const edited = await call('PATCH', path, alice.idToken, {
      name: 'Renamed',
      description: 'New words',
      visibility: 'public',
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      name: 'Renamed',
      visibility: 'public',
    });
    expect(
      (await call('PATCH', path, alice.idToken, { visibility: 'everyone' }))
        .status,
    ).toBe(400);
    expect(
      (await call('PATCH', path, bob.idToken, { name: 'Mine now' })).status,
    ).toBe(404);
    const pkg = (
      await db().collection(COLLECTIONS.packages).doc(body.packageId).get()
    ).data();
    expect(pkg?.name).toBe('Renamed');
    expect(pkg?.ownerId).toBe(alice.uid);
  });

  it('limits the deployments a user has in progress', async () => {
    const carol = await signUp();
    const deployments = db().collection(COLLECTIONS.deployments);
    for (let i = 0; i < MAX_IN_PROGRESS_PER_USER; i++) {
      await deployments.doc(`carol${i}${Date.now()}`).set({
        ownerId: carol.uid,
        status: i % 2 ? 'building' : 'verifying',
      });
    }
    const refused = await postDeployment(
      host.urls.api,
      carol.idToken,
      npm('left-pad'),
    );
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('in progress');
    // Alice's deployments are hers: Carol's limit does not touch them.
    expect(
      (await postDeployment(host.urls.api, alice.idToken, npm('left-pad')))
        .status,
    ).toBe(202);
  });

  it('refuses a body over the size limit', async () => {
    const big = await postDeployment(host.urls.api, alice.idToken, {
      ...npm('left-pad'),
      package: { name: 'x', description: 'y'.repeat(300_000) },
    });
    expect(big.status).toBe(413);
  });

  it('answers CORS preflights for the web origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${host.urls.api}/deployments`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const web = await preflight('http://127.0.0.1:5173');
    expect(web.headers.get('access-control-allow-origin')).toBe(
      'http://127.0.0.1:5173',
    );
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
