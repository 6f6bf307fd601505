import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from './types/src/index.ts';

// The emulator runs any query without an index; production refuses one that
// needs a composite index it lacks. This test reads the code for query
// chains and checks each one against firestore.indexes.json.
//
// What it understands: a chain inside one statement, with field names as
// string literals, on the admin SDK (`.collection(X).where(...).orderBy(...)`)
// or the web SDK (`query(collection(db, X), where(...), orderBy(...))`).
// A chain built across statements (`q = q.where(...)`) is not seen; a chain
// whose fields are not literals fails the test so that someone looks at it.
// A chain whose collection it cannot name may use an index of any collection.
// Ordering by the document id (`FieldPath.documentId()`) counts as `__name__`.

type Order = 'ASCENDING' | 'DESCENDING';
type IndexFile = {
  indexes: {
    collectionGroup: string;
    queryScope: string;
    fields: { fieldPath: string; order?: Order; arrayConfig?: string }[];
  }[];
};
type Query = {
  where: string;
  collection: string | null;
  equalities: string[];
  ordering: { field: string; order: Order }[];
  unreadable: boolean;
};

const EQUALITY_OPS = ['==', 'in', 'array-contains', 'array-contains-any'];

function findQueries(file: string, source: string): Query[] {
  const queries: Query[] = [];
  let offset = 0;
  for (const statement of source.split(';')) {
    const start = offset;
    offset += statement.length + 1;
    const calls = [
      ...statement.matchAll(/\b(where|orderBy)\(\s*([^,)]*)(?:,\s*([^,)]*))?/g),
    ];
    if (calls.length === 0) continue;

    const equalities = new Set<string>();
    const inequalities: string[] = [];
    const ordering: Query['ordering'] = [];
    let unreadable = false;
    for (const [, kind, rawField, rawSecond] of calls) {
      const field = literal(rawField);
      if (field === null) {
        unreadable = true;
        continue;
      }
      const second = literal(rawSecond);
      if (kind === 'orderBy') {
        const order = second === 'desc' ? 'DESCENDING' : 'ASCENDING';
        ordering.push({ field, order });
      } else if (second !== null && EQUALITY_OPS.includes(second)) {
        equalities.add(field);
      } else {
        inequalities.push(field);
      }
    }

    // Firestore orders by inequality fields it was not told to order by.
    for (const field of inequalities) {
      if (!ordering.some((o) => o.field === field)) {
        ordering.push({ field, order: 'ASCENDING' });
      }
    }
    // Every index ends with the document id in the direction of its last
    // field, so ordering by it last in that direction needs nothing more.
    const last = ordering.at(-1);
    const previous = ordering.at(-2);
    if (
      last?.field === '__name__' &&
      last.order === (previous?.order ?? 'ASCENDING')
    ) {
      ordering.pop();
    }
    const position = start + (calls[0]!.index ?? 0);
    const line = source.slice(0, position).split('\n').length;
    queries.push({
      where: `${file}:${line}`,
      collection: collectionOf(statement),
      equalities: [...equalities],
      ordering,
      unreadable,
    });
  }
  return queries;
}

function literal(raw: string | undefined): string | null {
  const text = raw?.trim() ?? '';
  // The call's own parentheses end the match early: `documentId(`.
  if (/^(FieldPath\.)?documentId\($/.test(text)) return '__name__';
  const match = text.match(/^['"`]([^'"`$]*)['"`]$/);
  return match ? match[1]! : null;
}

// The last collection named before the first filter: a literal path's last
// segment, or a COLLECTIONS constant.
function collectionOf(statement: string): string | null {
  const head = statement.slice(0, statement.search(/\b(where|orderBy)\(/));
  const calls = [...head.matchAll(/\bcollection(?:Group)?\(([^)]*)\)/g)];
  const args = calls.at(-1)?.[1];
  if (!args) return null;
  const constant = args.match(/COLLECTIONS\.(\w+)\s*$/);
  if (constant) {
    return COLLECTIONS[constant[1] as keyof typeof COLLECTIONS] ?? null;
  }
  const path = args.match(/['"`]([^'"`]*)['"`]\s*$/);
  return path?.[1]?.split('/').at(-1) || null;
}

// Equality filters alone, or one field filtered and ordered, are served by
// the automatic single-field indexes.
function needsComposite(query: Query): boolean {
  if (query.ordering.length === 0) return false;
  const fields = new Set([
    ...query.equalities,
    ...query.ordering.map((o) => o.field),
  ]);
  return fields.size > 1;
}

function isCovered(query: Query, file: IndexFile): boolean {
  return file.indexes.some((index) => {
    if (query.collection && index.collectionGroup !== query.collection) {
      return false;
    }
    const fields = index.fields;
    const count = query.equalities.length;
    if (fields.length !== count + query.ordering.length) return false;
    const leading = fields.slice(0, count).map((f) => f.fieldPath);
    const trailing = fields.slice(count);
    return (
      query.equalities.every((field) => leading.includes(field)) &&
      query.ordering.every(
        (o, i) =>
          trailing[i]?.fieldPath === o.field && trailing[i]?.order === o.order,
      )
    );
  });
}

function sourceFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .filter((e) => !/\.test\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

const indexFile = JSON.parse(
  readFileSync('firestore.indexes.json', 'utf8'),
) as IndexFile;

describe('firestore.indexes.json', () => {
  it('covers every query in functions/src and web/src', () => {
    const queries = ['functions/src', 'web/src']
      .flatMap(sourceFiles)
      .flatMap((file) => findQueries(file, readFileSync(file, 'utf8')));

    const unreadable = queries.filter((q) => q.unreadable).map((q) => q.where);
    expect(unreadable, 'queries with fields that are not literals').toEqual([]);
    const missing = queries
      .filter((q) => needsComposite(q) && !isCovered(q, indexFile))
      .map(({ where, collection, equalities, ordering }) => ({
        where,
        collection,
        equalities,
        ordering,
      }));
    expect(missing, 'queries without a composite index').toEqual([]);
  });

  it('tells a covered query from an uncovered one', () => {
    const source = `
      const a = await db()
        .collection(COLLECTIONS.deployments)
        .where('status', 'in', ['queued'])
        .where('updatedAt', '<', cutoff)
        .get();
      const b = query(
        collection(db, 'deployments'),
        where('packageId', '==', id),
        orderBy('createdAt', 'desc'),
      );
      const c = db().collection('packages').where('ownerId', '==', uid).get();
      const d = query(collection(db, \`deployments/\${id}/logs\`), orderBy('writtenAt'));
      const e = db().collection('logs').orderBy('writtenAt').orderBy(FieldPath.documentId());
      const f = db().collection('logs').orderBy('writtenAt', 'desc').orderBy(FieldPath.documentId());
    `;
    const [a, b, c, d, e, f] = findQueries('fixture.ts', source);

    expect(a).toMatchObject({
      collection: 'deployments',
      equalities: ['status'],
      ordering: [{ field: 'updatedAt', order: 'ASCENDING' }],
    });
    expect(needsComposite(a!) && isCovered(a!, indexFile)).toBe(true);
    expect(b).toMatchObject({ collection: 'deployments' });
    expect(needsComposite(b!)).toBe(true);
    expect(isCovered(b!, indexFile)).toBe(false);
    expect(needsComposite(c!)).toBe(false);
    expect(d).toMatchObject({ collection: 'logs' });
    expect(needsComposite(d!)).toBe(false);
    expect(e).toMatchObject({
      unreadable: false,
      ordering: [{ field: 'writtenAt' }],
    });
    expect(needsComposite(e!)).toBe(false);
    expect(needsComposite(f!) && !isCovered(f!, indexFile)).toBe(true);
  });

  it('keeps the log lines out of every index', () => {
    const overrides = JSON.parse(readFileSync('firestore.indexes.json', 'utf8'))
      .fieldOverrides as {
      collectionGroup: string;
      fieldPath: string;
      indexes: unknown[];
    }[];
    expect(overrides).toContainEqual({
      collectionGroup: 'logs',
      fieldPath: 'lines',
      indexes: [],
    });
  });
});
