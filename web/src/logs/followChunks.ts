import {
  endBefore,
  getDocs,
  limit,
  onSnapshot,
  orderBy,
  query,
  startAfter,
  type CollectionReference,
  type QueryDocumentSnapshot,
  type QuerySnapshot,
} from 'firebase/firestore';

// The live listener holds the two newest chunks: the newest takes the lines
// of small writes until it is full, and the one before stays in view until
// its last lines are seen. Chunks it passes by when more than one starts
// between two snapshots (a burst, or a spell offline) are read between the
// two. The window is small because the Firestore emulator slows every write
// by the number of documents its listeners hold (a window of 10 made each
// write of a sink's lines take twice as long as a window of 1). Reads in
// between are kept rare too: on the emulator, reading a gap at every new
// chunk while lines flowed broke the Listen stream (RESOURCE_EXHAUSTED,
// firebase-tools#8654) and the SDK waited a minute before listening again.
export const LIVE_CHUNKS = 2;

export type ChunkFollower = {
  // Chunks that are new or changed, from a snapshot or a read in between.
  chunks(docs: QueryDocumentSnapshot[]): void;
  // Each snapshot, after its chunks; `first` marks the first from the server.
  snapshot(snapshot: QuerySnapshot, first: boolean): void;
  error(error: Error): void;
};

// Follows a deployment's log chunks live, as the page and the log bench do.
// Returns the function that stops following.
export function followChunks(
  logs: CollectionReference,
  follower: ChunkFollower,
): () => void {
  let stopped = false;
  let synced = false;
  // The newest chunk of the last snapshot from the server.
  let newest: QueryDocumentSnapshot | null = null;

  // Reads what passed by unseen, after `after` (or from the start) and
  // before the oldest chunk in view.
  const readBetween = (
    after: QueryDocumentSnapshot | null,
    before: QueryDocumentSnapshot,
  ) => {
    const from = after ? [startAfter(after)] : [];
    getDocs(query(logs, orderBy('writtenAt'), ...from, endBefore(before))).then(
      (missed) => {
        if (!stopped) follower.chunks(missed.docs);
      },
      follower.error,
    );
  };

  const stop = onSnapshot(
    query(logs, orderBy('writtenAt', 'desc'), limit(LIVE_CHUNKS)),
    { includeMetadataChanges: true },
    (snapshot) => {
      follower.chunks(
        snapshot
          .docChanges()
          .filter((change) => change.type !== 'removed')
          .map((change) => change.doc),
      );
      if (snapshot.metadata.fromCache) {
        follower.snapshot(snapshot, false);
        return;
      }

      const oldest = snapshot.docs.at(-1);
      const lastNewest = newest;
      const passedBy =
        synced &&
        oldest !== undefined &&
        snapshot.size === LIVE_CHUNKS &&
        !snapshot.docs.some((doc) => doc.id === lastNewest?.id);
      if (passedBy) readBetween(lastNewest, oldest);
      newest = snapshot.docs[0] ?? newest;
      follower.snapshot(snapshot, !synced);
      synced = true;
    },
    follower.error,
  );
  return () => {
    stopped = true;
    stop();
  };
}
