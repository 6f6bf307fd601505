import {
  createUserWithEmailAndPassword,
  GithubAuthProvider,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signInWithPopup,
  signOut,
  type User,
} from 'firebase/auth';
import { useEffect, useState } from 'react';
import { config } from './config.ts';
import { auth } from './firebase.ts';

// The fixed local user: the same uid across restarts of the local stack, so
// packages created earlier stay visible.
const LOCAL_USER = { email: 'developer@sigyl.local', password: 'sigyl-local' };

export async function signIn(): Promise<void> {
  if (!config.local) {
    await signInWithPopup(auth, new GithubAuthProvider());
    return;
  }
  // The local Auth emulator now and then drops a request on a busy machine;
  // the one-click sign-in tries again before it gives up.
  for (let attempt = 1; ; attempt++) {
    try {
      await signInLocally();
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'auth/network-request-failed' || attempt === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }
}

async function signInLocally(): Promise<void> {
  try {
    await signInWithEmailAndPassword(
      auth,
      LOCAL_USER.email,
      LOCAL_USER.password,
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'auth/user-not-found' && code !== 'auth/invalid-credential') {
      throw error;
    }
    // Another tab may create the user at the same moment.
    await createUserWithEmailAndPassword(
      auth,
      LOCAL_USER.email,
      LOCAL_USER.password,
    ).catch((e: { code?: string }) => {
      if (e.code !== 'auth/email-already-in-use') throw e;
      return signInWithEmailAndPassword(
        auth,
        LOCAL_USER.email,
        LOCAL_USER.password,
      );
    });
  }
}

export function signOutUser(): Promise<void> {
  return signOut(auth);
}

// undefined while Firebase restores the session, null when signed out.
export function useUser(): User | null | undefined {
  const [user, setUser] = useState<User | null | undefined>(
    auth.currentUser ?? undefined,
  );
  useEffect(() => onAuthStateChanged(auth, setUser), []);
  return user;
}

export function SignInButton() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const click = () => {
    setBusy(true);
    setError(null);
    signIn().catch((e: unknown) => {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    });
  };
  return (
    <div className="sign-in">
      <button
        type="button"
        className="button primary"
        data-testid="sign-in"
        disabled={busy}
        onClick={click}
      >
        {config.local ? 'Sign in locally' : 'Sign in with GitHub'}
      </button>
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}
