import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldValue } from 'firebase-admin/firestore';
import { resetConfig } from '../../functions/src/config.ts';
import { db } from '../../functions/src/firestore.ts';
import { logWriter } from '../../functions/src/logs/writer.ts';
import { nowTs } from '../../functions/src/logs/timestamps.ts';
import { startEmulators } from '../stack/emulators.ts';
import { freePort } from '../stack/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'diag-'));
const em = await startEmulators({ projectId: 'demo-diag', firestorePort: await freePort(), pubsubPort: await freePort(), authPort: await freePort(), configDir: dir });
process.env.FIRESTORE_EMULATOR_HOST = em.firestoreHost;
process.env.SIGYL_PROJECT_ID = 'demo-diag';
process.env.SIGYL_HOME = dir;
resetConfig();
await db().collection('deployments').doc('d1').set({ status: 'building', logStats: { lines: 0, omitted: 0, bytes: 0 } });
const p50 = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(1);
for (let round = 0; round < 2; round++) {
  const raw: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await db().collection('deployments').doc('d1').collection('logs').add({ lines: [{ id: 'x' + i, ts: nowTs(), text: 'hello', source: 'build' }], writtenAt: FieldValue.serverTimestamp() });
    raw.push(performance.now() - t);
  }
  const batch: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    const b = db().batch();
    b.set(db().collection('deployments').doc('d1').collection('logs').doc(), { lines: [{ id: 'y' + i, ts: nowTs(), text: 'hello', source: 'build' }], writtenAt: FieldValue.serverTimestamp() });
    await b.commit();
    batch.push(performance.now() - t);
  }
  const app: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await logWriter().append('d1', [{ id: `z${round}-${i}`, ts: nowTs(), text: 'hello', source: 'build' }]);
    app.push(performance.now() - t);
  }
  console.log(`add p50 ${p50(raw)} batch p50 ${p50(batch)} append p50 ${p50(app)} ms`);
}
await logWriter().flushStats();
await em.stop();
process.exit(0);
