// The log bench's reader, in a worker thread of its own: it stands for the
// page in a browser, so its snapshot handling must not hold up the functions
// it measures. Follows a deployment's log with the page's own code and posts
// when each numbered line ("<label> <n>") is first seen, as an absolute time.
import { parentPort, workerData } from 'node:worker_threads';
import { deleteApp, initializeApp } from 'firebase/app';
import {
  collection,
  connectFirestoreEmulator,
  getFirestore,
  terminate,
} from 'firebase/firestore';
import { register } from 'tsx/esm/api';

// A worker thread does not inherit the TypeScript loader of the bench.
register();
const { followChunks } = await import('../../web/src/logs/followChunks.ts');

const { projectId, firestoreHost, owner } = workerData;
const app = initializeApp({ projectId }, 'log-bench-reader');
const web = getFirestore(app);
const [host, port] = firestoreHost.split(':');
connectFirestoreEmulator(web, host, Number(port), {
  mockUserToken: { sub: owner, user_id: owner },
});

const watches = new Map();

function watch(deploymentId) {
  const seen = new Set();
  const post = (message) =>
    parentPort.postMessage({ deploymentId, ...message });
  const stop = followChunks(
    collection(web, 'deployments', deploymentId, 'logs'),
    {
      chunks(docs) {
        const at = performance.timeOrigin + performance.now();
        const numbers = [];
        for (const doc of docs) {
          for (const line of doc.get('lines') ?? []) {
            const n = Number(line.text.slice(line.text.lastIndexOf(' ') + 1));
            if (!seen.has(n)) {
              seen.add(n);
              numbers.push(n);
            }
          }
        }
        if (numbers.length > 0) post({ type: 'seen', numbers, at });
      },
      snapshot(_snapshot, first) {
        if (first) post({ type: 'ready' });
      },
      error: (error) => post({ type: 'error', message: error.message }),
    },
  );
  watches.set(deploymentId, stop);
}

parentPort.on('message', (message) => {
  if (message.type === 'watch') {
    watch(message.deploymentId);
  } else if (message.type === 'unwatch') {
    watches.get(message.deploymentId)?.();
    watches.delete(message.deploymentId);
  } else if (message.type === 'close') {
    for (const stop of watches.values()) stop();
    void terminate(web)
      .then(() => deleteApp(app))
      .then(() => parentPort.postMessage({ type: 'closed' }));
  }
});
