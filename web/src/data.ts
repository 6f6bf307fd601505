import type { DeploymentDoc, PackageDoc } from '@sigyl/types';
import {
  collection,
  doc,
  limit,
  onSnapshot,
  orderBy,
  query,
  where,
  type DocumentReference,
} from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { db } from './firebase.ts';

export type WithId<T> = T & { id: string };

export type Loaded<T> =
  { state: 'loading' } | { state: 'ready'; value: T } | { state: 'missing' };

// The rules refuse a read of a document that does not exist yet, and a page
// opened right after the API answered may be a moment ahead of the write, so
// a refused or missing document is retried for a few seconds before the
// page says it is missing.
const RETRIES = 20;
const RETRY_MS = 500;

function useDocument<T>(ref: DocumentReference | null): Loaded<WithId<T>> {
  const [loaded, setLoaded] = useState<Loaded<WithId<T>>>({
    state: 'loading',
  });
  const path = ref?.path ?? null;
  useEffect(() => {
    setLoaded({ state: 'loading' });
    if (!ref) return;
    let stop = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    const retryOrGiveUp = () => {
      stop();
      if (++attempts >= RETRIES) {
        setLoaded({ state: 'missing' });
        return;
      }
      timer = setTimeout(listen, RETRY_MS);
    };
    const listen = () => {
      stop = onSnapshot(
        ref,
        (snapshot) => {
          if (!snapshot.exists()) {
            if (snapshot.metadata.fromCache) return;
            retryOrGiveUp();
            return;
          }
          attempts = 0;
          setLoaded({
            state: 'ready',
            value: { ...(snapshot.data() as T), id: snapshot.id },
          });
        },
        retryOrGiveUp,
      );
    };
    listen();
    return () => {
      clearTimeout(timer);
      stop();
    };
    // The path identifies the reference; a new object for it changes nothing.
  }, [path]);
  return loaded;
}

export function usePackage(packageId: string) {
  return useDocument<PackageDoc>(doc(db, 'packages', packageId));
}

export function useDeployment(deploymentId: string | null) {
  return useDocument<DeploymentDoc>(
    deploymentId ? doc(db, 'deployments', deploymentId) : null,
  );
}

// A package's deployments, newest first.
export function useDeploymentsOf(
  packageId: string,
  ownerId: string | null,
): WithId<DeploymentDoc>[] {
  const [list, setList] = useState<WithId<DeploymentDoc>[]>([]);
  useEffect(() => {
    if (!ownerId) return;
    const q = query(
      collection(db, 'deployments'),
      where('packageId', '==', packageId),
      where('ownerId', '==', ownerId),
      orderBy('createdAt', 'desc'),
      limit(25),
    );
    return onSnapshot(
      q,
      (snapshot) =>
        setList(
          snapshot.docs.map((d) => ({
            ...(d.data() as DeploymentDoc),
            id: d.id,
          })),
        ),
      () => setList([]),
    );
  }, [packageId, ownerId]);
  return list;
}

// The signed-in user's packages, most recently updated first.
export function useMyPackages(ownerId: string): WithId<PackageDoc>[] | null {
  const [list, setList] = useState<WithId<PackageDoc>[] | null>(null);
  useEffect(() => {
    const q = query(
      collection(db, 'packages'),
      where('ownerId', '==', ownerId),
    );
    return onSnapshot(
      q,
      (snapshot) =>
        setList(
          snapshot.docs
            .map((d) => ({ ...(d.data() as PackageDoc), id: d.id }))
            .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1)),
        ),
      () => setList([]),
    );
  }, [ownerId]);
  return list;
}
