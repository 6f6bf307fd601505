import { createHash, randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

// Ids are lowercase letters and digits: they end up in Cloud Run service and
// revision names and in labels.
export function newId(length = 20): string {
  let id = ALPHABET[randomInt(26)]!;
  while (id.length < length) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export const ID_PATTERN = /^[a-z0-9]{8,32}$/;

export const SLUG_MAX = 24;

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, '');
  return slug || 'server';
}

// A Cloud Run service id: starts with a letter, at most 49 characters, no
// trailing hyphen. The owner's hash keeps two owners' `weather` apart.
export function serviceNameFor(slug: string, ownerId: string): string {
  const owner = createHash('sha256').update(ownerId).digest('hex').slice(0, 8);
  return `mcp-${slug}-${owner}`;
}

export function revisionNameFor(serviceName: string, deploymentId: string) {
  return `${serviceName}-${deploymentId}`;
}
