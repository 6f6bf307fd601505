import type {
  ApiError,
  CreateDeploymentRequest,
  CreateDeploymentResponse,
  Visibility,
} from '@sigyl/types';
import { config } from './config.ts';
import { auth } from './firebase.ts';

// An error answer of the API, with the dotted path of the field it is about
// (like `source.url`) when there is one.
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const token = await auth.currentUser?.getIdToken();
  if (!token) throw new ApiFailure(401, 'unauthenticated', 'Sign in first.');
  let response: Response;
  try {
    response = await fetch(`${config.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, 'unreachable', 'The Sigyl API cannot be reached.');
  }
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed as ApiError | undefined)?.error;
    throw new ApiFailure(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `The API answered ${response.status}.`,
      error?.field,
    );
  }
  return parsed as T;
}

export function createDeployment(
  request: CreateDeploymentRequest,
): Promise<CreateDeploymentResponse> {
  return call('POST', '/deployments', request);
}

export function cancelDeployment(deploymentId: string): Promise<unknown> {
  return call('POST', `/deployments/${deploymentId}/cancel`);
}

export function updatePackage(
  packageId: string,
  changes: { name?: string; description?: string; visibility?: Visibility },
): Promise<unknown> {
  return call('PATCH', `/packages/${packageId}`, changes);
}
