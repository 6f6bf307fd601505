// `npm start`: the whole product on this machine, until Ctrl-C.
import { join, relative } from 'node:path';
import { ROOT } from './stack/emulators.ts';
import { stopAllServices } from './stack/processes.ts';
import { startStack, type Stack } from './stack/start.ts';

const home = process.env.SIGYL_HOME ?? join(ROOT, '.sigyl');
let stack: Stack | null = null;
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  if (stack) {
    console.log(`Stopping Sigyl (saving data in ${join(home, 'data')})…`);
    await stack.stop();
  } else {
    // Still starting: nothing to save yet.
    await stopAllServices();
  }
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
process.on('SIGHUP', () => void stop());

const started = Date.now();
try {
  stack = await startStack({
    home,
    // SIGYL_PORTS=free: any free ports, for a second copy beside the first.
    ports: process.env.SIGYL_PORTS === 'free' ? 'free' : 'default',
    persist: true,
    echo: process.env.SIGYL_VERBOSE === '1',
  });
} catch (error) {
  console.error(`Sigyl could not start: ${(error as Error).message}`);
  await stopAllServices();
  process.exit(1);
}

console.log(`Sigyl is ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  web        ${stack.urls.web}
  api        ${stack.urls.api}
  firestore  ${stack.urls.firestore}
  pubsub     ${stack.urls.pubsub}
  auth       ${stack.urls.auth}
Written to ${relative(process.cwd(), join(home, 'local.json'))}. Ctrl-C stops everything.`);
