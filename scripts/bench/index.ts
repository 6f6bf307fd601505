// `npm run bench`: every figure the issues ask for, measured on this machine.
// The deployment and page figures share one local stack; the log path starts
// its own emulators so its anchors are measured alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '../stack/start.ts';
import { runDeployBench } from './deploy.ts';
import { runLogBench } from './logs.ts';
import { runWebBench } from './web.ts';

process.env.METADATA_SERVER_DETECTION = 'none';
const home = mkdtempSync(join(tmpdir(), 'sigyl-bench-'));
const stack = await startStack({
  home,
  ports: 'free',
  projectId: 'demo-sigyl-bench',
});
try {
  console.log('\n== Deployments (local stack) ==');
  await runDeployBench(stack);
  console.log('\n== The page in Chromium (local stack) ==');
  await runWebBench(stack);
} finally {
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}
console.log('\n== The log path ==');
await runLogBench();
process.exit(0);
