import { describe, expect, it } from 'vitest';
import { useTestProject, uniqueId } from '../test/env.ts';
import { db } from './firestore.ts';

useTestProject('fs');

describe('Firestore emulator', () => {
  it('stores a document and reads it back', async () => {
    const ref = db().collection('packages').doc(uniqueId());
    await ref.set({ name: 'weather' });
    expect((await ref.get()).data()).toEqual({ name: 'weather' });
  });
});
