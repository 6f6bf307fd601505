// Runtime configuration, read once from the Vite environment. The local stack
// sets these in process.env before it starts Vite; a production build gets
// them at build time.
export type WebConfig = {
  projectId: string;
  apiUrl: string;
  // host:port of the Firestore emulator, when running locally.
  firestoreEmulator: string | null;
  // http://host:port of the Auth emulator, when running locally.
  authEmulator: string | null;
  local: boolean;
  firebaseConfig: Record<string, string>;
};

const env = import.meta.env;

function readFirebaseConfig(projectId: string): Record<string, string> {
  const raw = env.VITE_SIGYL_FIREBASE_CONFIG as string | undefined;
  if (raw) return JSON.parse(raw) as Record<string, string>;
  // The emulators accept any API key.
  return { projectId, apiKey: 'local-emulator', authDomain: 'localhost' };
}

const projectId = (env.VITE_SIGYL_PROJECT_ID as string | undefined) ?? '';

export const config: WebConfig = {
  projectId,
  apiUrl: ((env.VITE_SIGYL_API_URL as string | undefined) ?? '').replace(
    /\/+$/,
    '',
  ),
  firestoreEmulator:
    (env.VITE_SIGYL_FIRESTORE_EMULATOR as string | undefined) || null,
  authEmulator: (env.VITE_SIGYL_AUTH_EMULATOR as string | undefined) || null,
  local: env.VITE_SIGYL_LOCAL === 'true',
  firebaseConfig: readFirebaseConfig(projectId),
};
