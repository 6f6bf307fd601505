// The log bench's reader, in a worker thread of its own: it stands for the
// page in a browser, so its snapshot handling must not hold up the functions
// it measures. Follows a deployment's log as the page does and posts when
// each numbered line ("<label> <n>") is first seen, as an absolute time.
import { parentPort, workerData } from 'node:worker_threads';
import { deleteApp, initializeApp } from 'firebase/app';
import {
  collection,
  connectFirestoreEmulator,
  endBefore,
  getDocs,
  getFirestore,
  limit,
  onSnapshot,
  orderBy,
  query,
  startAfter,
  terminate,
} from 'firebase/firestore';

const { projectId, firestoreHost, owner } = workerData;
const app = initializeApp({ projectId }, 'log-bench-reader');
const web = getFirestore(app);
const [host, port] = firestoreHost.split(':');
connectFirestoreEmulator(web, host, Number(port), {
  mockUserToken: { sub: owner, user_id: owner },
});

// A listener on the two newest chunks, as the page has, and a read of what
// lies between when more than one chunk was started between two snapshots.
const NEWEST_CHUNKS = 2;
const watches = new Map();

function watch(deploymentId) {
  const chunks = collection(web, 'deployments', deploymentId, 'logs');
  const seen = new Set();
  const note = (docs) => {
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
    if (numbers.length > 0) {
      parentPort.postMessage({ type: 'seen', deploymentId, numbers, at });
    }
  };
  // The newest chunk of the last snapshot.
  let newest = null;
  let ready = false;
  const stop = onSnapshot(
    query(chunks, orderBy('writtenAt', 'desc'), limit(NEWEST_CHUNKS)),
    (snapshot) => {
      note(
        snapshot
          .docChanges()
          .filter((change) => change.type !== 'removed')
          .map((change) => change.doc),
      );
      const before = newest;
      const oldest = snapshot.docs.at(-1);
      newest = snapshot.docs[0] ?? newest;
      if (
        before &&
        oldest &&
        snapshot.size === NEWEST_CHUNKS &&
        !snapshot.docs.some((doc) => doc.id === before.id)
      ) {
        void getDocs(
          query(
            chunks,
            orderBy('writtenAt'),
            startAfter(before),
            endBefore(oldest),
          ),
        ).then(
          (missed) => note(missed.docs),
          (error) =>
            parentPort.postMessage({
              type: 'error',
              deploymentId,
              message: error.message,
            }),
        );
      }
      if (!ready) {
        ready = true;
        parentPort.postMessage({ type: 'ready', deploymentId });
      }
    },
    (error) =>
      parentPort.postMessage({
        type: 'error',
        deploymentId,
        message: error.message,
      }),
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
