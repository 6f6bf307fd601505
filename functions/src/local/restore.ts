import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COLLECTIONS, type DeploymentDoc, type PackageDoc } from '@sigyl/types';
import { runner } from '../adapters.ts';
import { RUN_FILE } from '../builders/serverCommand.ts';
import { config } from '../config.ts';
import { deploymentRef } from '../deployments/state.ts';
import { db, nowIso } from '../firestore.ts';
import { errorFields, log } from '../log.ts';
import { appendSystemLines } from '../logs/system.ts';
import { secretStore } from '../secrets.ts';

// A local Sigyl that restarts has lost its servers: start each package's
// live revision again from its build, as Cloud Run would keep it serving.
export async function restoreLiveServers(): Promise<void> {
  const packages = await db()
    .collection(COLLECTIONS.packages)
    .where('liveDeploymentId', '!=', null)
    .get();
  for (const doc of packages.docs) {
    const pkg = doc.data() as PackageDoc;
    const deploymentId = pkg.liveDeploymentId!;
    if (!existsSync(join(config().home, 'work', deploymentId, RUN_FILE)))
      continue;
    try {
      const deployment = (
        await deploymentRef(deploymentId).get()
      ).data() as DeploymentDoc;
      const input = {
        deploymentId,
        packageId: doc.id,
        serviceName: pkg.serviceName,
        deployment,
        secrets: await secretStore().get(deploymentId),
      };
      const revision = await runner().deploy(input);
      const { url } = await runner().promote(input, revision);
      const now = nowIso();
      await deploymentRef(deploymentId).update({ url, updatedAt: now });
      await doc.ref.update({ url, updatedAt: now });
      await appendSystemLines(deploymentId, [
        `Sigyl restarted; the server runs again at ${url}/mcp`,
      ]);
    } catch (error) {
      log('WARNING', 'could not restart a live server', {
        deploymentId,
        ...errorFields(error),
      });
      await appendSystemLines(deploymentId, [
        `Sigyl restarted and could not start this server again: ${(error as Error).message}`,
      ]);
    }
  }
}
