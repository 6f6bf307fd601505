import { COLLECTIONS, type PackageDoc } from '@sigyl/types';
import { db } from '../firestore.ts';

// Which deployment an entry belongs to. A found answer never changes (a build
// id or a revision belongs to one deployment for good), so it is kept in
// memory; "not found" is not kept, because it may be found a moment later.
const deploymentByBuild = new Map<string, string>();
const serviceByDeployment = new Map<string, string>();

export async function deploymentOfBuild(
  buildId: string,
): Promise<string | null> {
  const known = deploymentByBuild.get(buildId);
  if (known) return known;
  const found = await db()
    .collection(COLLECTIONS.deployments)
    .where('buildId', '==', buildId)
    .limit(1)
    .get();
  const id = found.docs[0]?.id ?? null;
  if (id) deploymentByBuild.set(buildId, id);
  return id;
}

// True when the deployment exists and its package runs as this service.
export async function isRevisionOf(
  deploymentId: string,
  serviceName: string,
): Promise<boolean> {
  let known = serviceByDeployment.get(deploymentId);
  if (!known) {
    const deployment = await db()
      .collection(COLLECTIONS.deployments)
      .doc(deploymentId)
      .get();
    const packageId = deployment.get('packageId') as string | undefined;
    if (!packageId) return false;
    const pkg = await db()
      .collection(COLLECTIONS.packages)
      .doc(packageId)
      .get();
    known = (pkg.data() as PackageDoc | undefined)?.serviceName;
    if (!known) return false;
    serviceByDeployment.set(deploymentId, known);
  }
  return known === serviceName;
}
