// `npm start`: the whole product on this machine, until Ctrl-C.
import { join } from 'node:path';
import { ROOT } from './stack/emulators.ts';
import { startStack } from './stack/start.ts';

const started = Date.now();
const stack = await startStack({
  home: join(ROOT, '.sigyl'),
  persist: true,
  echo: process.env.SIGYL_VERBOSE === '1',
});

console.log(`Sigyl is ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  web        ${stack.urls.web}
  api        ${stack.urls.api}
  firestore  ${stack.urls.firestore}
  pubsub     ${stack.urls.pubsub}
  auth       ${stack.urls.auth}
Written to .sigyl/local.json. Ctrl-C stops everything.`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('Stopping Sigyl (saving data to .sigyl/data)…');
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
