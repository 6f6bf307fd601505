import type { Request, Response } from '@google-cloud/functions-framework';
import {
  COLLECTIONS,
  type DeploymentDoc,
  type PackageDoc,
  type Visibility,
} from '@sigyl/types';
import { config } from '../config.ts';
import { auth, db, nowIso } from '../firestore.ts';
import { ID_PATTERN } from '../ids.ts';
import { errorFields, log } from '../log.ts';
import { cancelDeployment, createDeployment } from './deployments.ts';
import { RequestError, invalid } from './errors.ts';
import { handleGetLogs } from './logs.ts';
import { validateCreateRequest } from './validate.ts';

const MAX_BODY_BYTES = 256 * 1024;

// The `api` HTTP function: the only way clients change anything.
export async function api(req: Request, res: Response) {
  setCors(req, res);
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  try {
    await route(req, res);
  } catch (error) {
    if (error instanceof RequestError) {
      res.status(error.status).json(error.toBody());
      return;
    }
    log('ERROR', 'api request failed', {
      method: req.method,
      path: req.path,
      ...errorFields(error),
    });
    if (!res.headersSent) {
      res.status(500).json({
        error: {
          code: 'internal',
          message: 'Something went wrong on our side.',
        },
      });
    }
  }
}

async function route(req: Request, res: Response) {
  const path = req.path.replace(/\/+$/, '') || '/';
  if (req.method === 'GET' && path === '/healthz') {
    res.json({ ok: true });
    return;
  }
  if ((req.rawBody?.length ?? 0) > MAX_BODY_BYTES) {
    throw new RequestError(
      413,
      'too_large',
      'The request body is larger than 256 KiB.',
    );
  }
  const uid = await authenticate(req);

  if (req.method === 'POST' && path === '/deployments') {
    const request = validateCreateRequest(req.body, config().mode);
    const key = idempotencyKey(req);
    res.status(202).json(await createDeployment(uid, request, key));
    return;
  }

  let match = path.match(/^\/deployments\/([^/]+)(\/logs|\/cancel)?$/);
  if (match) {
    const deploymentId = match[1]!;
    const deployment = await ownedDeployment(deploymentId, uid);
    if (req.method === 'GET' && !match[2]) {
      res.json({ id: deploymentId, ...deployment });
      return;
    }
    if (req.method === 'GET' && match[2] === '/logs') {
      await handleGetLogs(req, res, deploymentId);
      return;
    }
    if (req.method === 'POST' && match[2] === '/cancel') {
      const cancelled = await cancelDeployment(deploymentId, deployment, uid);
      res.json({ id: deploymentId, ...cancelled });
      return;
    }
  }

  match = path.match(/^\/packages\/([^/]+)$/);
  if (match && req.method === 'PATCH') {
    res.json(await updatePackage(match[1]!, uid, req.body));
    return;
  }

  throw new RequestError(
    404,
    'not_found',
    `No route for ${req.method} ${path}.`,
  );
}

async function authenticate(req: Request): Promise<string> {
  const header = req.get('authorization') ?? '';
  const token = header.match(/^Bearer (.+)$/)?.[1];
  if (!token) {
    throw new RequestError(
      401,
      'unauthenticated',
      'Sign in first: this request has no ID token.',
    );
  }
  try {
    return (await auth().verifyIdToken(token)).uid;
  } catch {
    throw new RequestError(
      401,
      'unauthenticated',
      'Your sign-in has expired or is not valid; sign in again.',
    );
  }
}

function idempotencyKey(req: Request): string | null {
  const key = req.get('idempotency-key');
  if (key === undefined) return null;
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(key)) {
    throw invalid(
      'Idempotency-Key',
      'The Idempotency-Key header must be 1 to 200 letters, digits or "_.:-".',
    );
  }
  return key;
}

// Another user's deployment answers exactly like a missing one.
async function ownedDeployment(
  id: string,
  uid: string,
): Promise<DeploymentDoc> {
  const notFound = new RequestError(404, 'not_found', 'No such deployment.');
  if (!ID_PATTERN.test(id)) throw notFound;
  const snapshot = await db().collection(COLLECTIONS.deployments).doc(id).get();
  const deployment = snapshot.data() as DeploymentDoc | undefined;
  if (!deployment || deployment.ownerId !== uid) throw notFound;
  return deployment;
}

async function updatePackage(packageId: string, uid: string, body: unknown) {
  const notFound = new RequestError(404, 'not_found', 'No such package.');
  if (!ID_PATTERN.test(packageId)) throw notFound;
  if (typeof body !== 'object' || body === null) {
    throw invalid(
      'body',
      'Send a JSON object with name, description or visibility.',
    );
  }
  const { name, description, visibility } = body as Record<string, unknown>;
  const update: Partial<PackageDoc> = {};
  if (name !== undefined) {
    if (typeof name !== 'string' || !name.trim() || name.length > 80) {
      throw invalid('name', 'The name must be 1 to 80 characters.');
    }
    update.name = name.trim();
  }
  if (description !== undefined) {
    if (typeof description !== 'string' || description.length > 500) {
      throw invalid(
        'description',
        'The description must be at most 500 characters.',
      );
    }
    update.description = description;
  }
  if (visibility !== undefined) {
    if (visibility !== 'private' && visibility !== 'public') {
      throw invalid('visibility', 'Visibility must be "private" or "public".');
    }
    update.visibility = visibility as Visibility;
  }
  const ref = db().collection(COLLECTIONS.packages).doc(packageId);
  return db().runTransaction(async (tx) => {
    const pkg = (await tx.get(ref)).data() as PackageDoc | undefined;
    if (!pkg || pkg.ownerId !== uid) throw notFound;
    const next = { ...update, updatedAt: nowIso() };
    tx.update(ref, next);
    return { id: packageId, ...pkg, ...next };
  });
}

function setCors(req: Request, res: Response) {
  const origin = req.get('origin');
  if (origin && origin === config().webOrigin) {
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Vary', 'Origin');
    res.set('Access-Control-Allow-Methods', 'GET, POST, PATCH, OPTIONS');
    res.set(
      'Access-Control-Allow-Headers',
      'Authorization, Content-Type, Idempotency-Key',
    );
    res.set('Access-Control-Max-Age', '600');
  }
}
