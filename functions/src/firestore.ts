import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { config } from './config.ts';

// One firebase-admin app per project id: tests run several projects at once
// against one emulator.
function app() {
  const { projectId } = config();
  return (
    getApps().find((a) => a.name === projectId) ??
    initializeApp({ projectId }, projectId)
  );
}

export function db(): Firestore {
  return getFirestore(app());
}

export function auth() {
  const { authProjectId } = config();
  const authApp =
    getApps().find((a) => a.name === `auth:${authProjectId}`) ??
    initializeApp({ projectId: authProjectId }, `auth:${authProjectId}`);
  return getAuth(authApp);
}

export function nowIso(): string {
  return new Date().toISOString();
}
