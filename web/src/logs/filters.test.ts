import type { LogLine } from '@sigyl/types';
import { describe, expect, it } from 'vitest';
import { filterLines, NO_FILTER, stepsOf } from './filters.ts';

const lines: LogLine[] = [
  { id: 'a', ts: '1', text: 'start', source: 'system' },
  { id: 'b', ts: '2', text: 'npm ci', source: 'build', step: 'install' },
  { id: 'c', ts: '3', text: 'tsc', source: 'build', step: 'compile' },
  { id: 'd', ts: '4', text: 'listening', source: 'runtime' },
];

describe('filterLines', () => {
  it('shows everything without a filter', () => {
    expect(filterLines(lines, NO_FILTER)).toEqual([0, 1, 2, 3]);
  });

  it('filters by source', () => {
    const sources = new Set(['build', 'runtime'] as const);
    expect(filterLines(lines, { sources, steps: new Set() })).toEqual([
      1, 2, 3,
    ]);
  });

  it('filters by step, keeping lines that belong to no step', () => {
    const steps = new Set(['compile']);
    expect(filterLines(lines, { sources: new Set(), steps })).toEqual([
      0, 2, 3,
    ]);
  });
});

describe('stepsOf', () => {
  it('lists steps in order of appearance', () => {
    expect(stepsOf(lines)).toEqual(['install', 'compile']);
  });
});
