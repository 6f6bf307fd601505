import type { LogChunkDoc } from '@sigyl/types';
import {
  collection,
  endBefore,
  getDocs,
  limitToLast,
  orderBy,
  query,
  type QueryDocumentSnapshot,
} from 'firebase/firestore';
import { useCallback, useEffect, useRef, useState } from 'react';
import { db } from '../firebase.ts';
import { followChunks, LIVE_CHUNKS } from './followChunks.ts';
import { LineStore } from './lineStore.ts';

// A chunk holds one line at low rates and thousands under load, so pages are
// sized in lines, from the lines per chunk seen so far: older pages aim at
// PAGE_LINES lines each. The page keeps loading older pages at first until it
// holds FIRST_LINES lines, so minutes of a slow step show at once while a
// 200,000-line log loads only its end.
const PAGE_LINES = 2000;
const FIRST_LINES = 1000;
const MAX_PAGE_CHUNKS = 300;

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

export type LogStream = {
  store: LineStore;
  // Changes whenever the store does, so components re-render.
  version: number;
  // Lines that arrived live (not from older pages) since the page opened.
  liveAdded: number;
  hasOlder: boolean;
  loadingOlder: boolean;
  // True while the first lines are still being gathered from older pages.
  filling: boolean;
  // Resolves to whether still older lines remain.
  loadOlder(): Promise<boolean>;
  connection: Connection;
  error: string | null;
};

type Cursor = {
  oldest: QueryDocumentSnapshot | null;
  chunks: number;
  inFlight: Promise<boolean> | null;
};

// Streams a deployment's log: the newest chunks first, then every chunk
// written from there on, live; older chunks on demand. Lines are merged,
// de-duplicated and ordered in a LineStore.
export function useLogStream(deploymentId: string | null): LogStream {
  const [store, setStore] = useState(() => new LineStore());
  const [version, setVersion] = useState(0);
  const [liveAdded, setLiveAdded] = useState(0);
  const [hasOlder, setHasOlder] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [filling, setFilling] = useState(false);
  const [fromCache, setFromCache] = useState<boolean | null>(null);
  const [online, setOnline] = useState(() => navigator.onLine);
  const [error, setError] = useState<string | null>(null);
  const cursor = useRef<Cursor>({ oldest: null, chunks: 0, inFlight: null });

  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);

  // Fetches the page of chunks written before the oldest one held.
  const fetchOlder = useCallback(
    (target: LineStore, own: Cursor): Promise<boolean> => {
      if (own.inFlight) return own.inFlight;
      const before = own.oldest;
      if (!deploymentId || !before) return Promise.resolve(false);
      const perChunk = Math.max(1, target.size / Math.max(1, own.chunks));
      const size = Math.min(
        MAX_PAGE_CHUNKS,
        Math.max(1, Math.round(PAGE_LINES / perChunk)),
      );
      setLoadingOlder(true);
      own.inFlight = getDocs(
        query(
          collection(db, 'deployments', deploymentId, 'logs'),
          orderBy('writtenAt'),
          endBefore(before),
          limitToLast(size),
        ),
      )
        .then((snapshot) => {
          for (const doc of snapshot.docs) {
            target.add((doc.data() as LogChunkDoc).lines ?? []);
          }
          own.oldest = snapshot.docs[0] ?? null;
          own.chunks += snapshot.size;
          const more = snapshot.size === size;
          setHasOlder(more);
          setVersion((v) => v + 1);
          return more;
        })
        .catch((e: unknown) => {
          setError(String(e));
          return false;
        })
        .finally(() => {
          own.inFlight = null;
          setLoadingOlder(false);
        });
      return own.inFlight;
    },
    [deploymentId],
  );

  useEffect(() => {
    const fresh = new LineStore();
    const own: Cursor = { oldest: null, chunks: 0, inFlight: null };
    cursor.current = own;
    setStore(fresh);
    setVersion((v) => v + 1);
    setLiveAdded(0);
    setHasOlder(false);
    setFilling(false);
    setFromCache(null);
    setError(null);
    if (!deploymentId) return;

    let stopped = false;
    // The first snapshots may come from the cache while the listener is in
    // fact connecting; only a drop after it has synced once is reconnecting.
    let synced = false;
    const fillFirstLines = async () => {
      setFilling(true);
      while (!stopped && fresh.size < FIRST_LINES) {
        if (!(await fetchOlder(fresh, own))) break;
      }
      if (!stopped) setFilling(false);
    };
    const stop = followChunks(
      collection(db, 'deployments', deploymentId, 'logs'),
      {
        chunks(docs) {
          let added = 0;
          for (const doc of docs) {
            added += fresh.add((doc.data() as LogChunkDoc).lines ?? []).added;
          }
          if (added > 0) {
            setVersion((v) => v + 1);
            setLiveAdded((n) => n + added);
          }
        },
        snapshot(snapshot, first) {
          const { fromCache } = snapshot.metadata;
          if (!fromCache) synced = true;
          if (synced) setFromCache(fromCache);
          if (!first) return;
          // Older chunks page from the oldest of the first snapshot.
          const full = snapshot.size === LIVE_CHUNKS;
          own.oldest = snapshot.docs.at(-1) ?? null;
          own.chunks = snapshot.size;
          setHasOlder(full);
          if (full) void fillFirstLines();
        },
        error: (e) => setError(e.message),
      },
    );
    return () => {
      stopped = true;
      stop();
    };
  }, [deploymentId, fetchOlder]);

  const loadOlder = useCallback(
    () => fetchOlder(store, cursor.current),
    [fetchOlder, store],
  );

  const connection: Connection = !online
    ? 'offline'
    : fromCache === null
      ? 'connecting'
      : fromCache
        ? 'reconnecting'
        : 'live';

  return {
    store,
    version,
    liveAdded,
    hasOlder,
    loadingOlder,
    filling,
    loadOlder,
    connection,
    error,
  };
}
