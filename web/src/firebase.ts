import { initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth } from 'firebase/auth';
import { connectFirestoreEmulator, getFirestore } from 'firebase/firestore';
import { config } from './config.ts';

export const app = initializeApp(config.firebaseConfig);
export const auth = getAuth(app);
export const db = getFirestore(app);

if (config.authEmulator) {
  connectAuthEmulator(auth, config.authEmulator, { disableWarnings: true });
}
if (config.firestoreEmulator) {
  const [host = '127.0.0.1', port = '8080'] =
    config.firestoreEmulator.split(':');
  connectFirestoreEmulator(db, host, Number(port));
}
