// The deployment path on the local stack: how fast `POST /deployments`
// answers, and how long a real server takes from request to live. The
// baseline is a deploy flow that holds the request open for the whole build:
// its answer takes as long as request-to-live.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './stats.ts';
import { startStack, type Stack } from '../stack/start.ts';

async function signUp(stack: Stack, n: number) {
  const response = await fetch(
    `${stack.urls.auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=bench`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `bench${n}-${Date.now()}@example.com`,
        password: 'password1',
        returnSecureToken: true,
      }),
    },
  );
  return ((await response.json()) as { idToken: string }).idToken;
}

async function post(stack: Stack, token: string, body: unknown) {
  const started = performance.now();
  const response = await fetch(`${stack.urls.api}/deployments`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { deploymentId: string };
  if (response.status !== 202)
    throw new Error(`POST answered ${response.status}`);
  return { ms: performance.now() - started, deploymentId: json.deploymentId };
}

async function waitForFinal(stack: Stack, token: string, deploymentId: string) {
  for (;;) {
    const response = await fetch(
      `${stack.urls.api}/deployments/${deploymentId}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    const deployment = (await response.json()) as {
      status: string;
      error?: unknown;
    };
    if (['live', 'failed', 'cancelled'].includes(deployment.status))
      return deployment;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runDeployBench(stack: Stack) {
  // 50 requests, each from its own user (the per-user limit on deployments
  // in progress would refuse the sixth), each cancelled at once so that 50
  // builds do not compete for the machine.
  const latencies: number[] = [];
  // One request first, not counted: it warms the connection and the
  // function's first token check, as any running service is warm.
  await post(stack, await signUp(stack, -1), {
    source: { type: 'npm', spec: 'left-pad@1.3.0' },
    package: { name: 'warm-up' },
  });
  for (let i = 0; i < 50; i++) {
    const token = await signUp(stack, i);
    const { ms, deploymentId } = await post(stack, token, {
      source: { type: 'npm', spec: 'left-pad@1.3.0' },
      package: { name: `bench ${i}` },
    });
    latencies.push(ms);
    await fetch(`${stack.urls.api}/deployments/${deploymentId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  }
  console.log(
    `POST /deployments (50 requests): p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
      `p99 ${percentile(latencies, 99).toFixed(0)} ms (targets: p50 < 150 ms, p99 < 400 ms)`,
  );

  const token = await signUp(stack, 999);
  const started = performance.now();
  const { ms, deploymentId } = await post(stack, token, {
    source: {
      type: 'npm',
      spec: '@modelcontextprotocol/server-everything@2026.8.31',
    },
    package: { name: 'Everything' },
  });
  const final = await waitForFinal(stack, token, deploymentId);
  const toLive = performance.now() - started;
  console.log(
    `server-everything: request to ${final.status} in ${(toLive / 1000).toFixed(1)} s; ` +
      `the request itself answered in ${ms.toFixed(0)} ms, where a flow that holds ` +
      `the request open for the build would answer after ${(toLive / 1000).toFixed(1)} s`,
  );
  return {
    postP50: percentile(latencies, 50),
    postP99: percentile(latencies, 99),
    toLive,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const home = mkdtempSync(join(tmpdir(), 'sigyl-bench-'));
  const stack = await startStack({
    home,
    ports: 'free',
    projectId: 'demo-sigyl-bench',
  });
  try {
    await runDeployBench(stack);
  } finally {
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
