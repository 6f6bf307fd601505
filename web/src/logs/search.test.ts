import { describe, expect, it } from 'vitest';
import { findMatches, highlight } from './search.ts';

describe('findMatches', () => {
  it('finds every occurrence with its row and position, ignoring case', () => {
    const rows = ['Error: a', 'fine', 'error error'];
    expect(findMatches(rows, 'error').matches).toEqual([
      { row: 0, start: 0, end: 5 },
      { row: 2, start: 0, end: 5 },
      { row: 2, start: 6, end: 11 },
    ]);
  });

  it('finds nothing for an empty query and caps huge result sets', () => {
    expect(findMatches(['abc'], '').matches).toEqual([]);
    const many = findMatches(['a'.repeat(50)], 'a', 10);
    expect(many.matches).toHaveLength(10);
    expect(many.capped).toBe(true);
  });
});

describe('highlight', () => {
  it('splits styled spans at match boundaries and marks the current one', () => {
    const red = { color: 'red' };
    const spans = [{ text: 'hello ' }, { text: 'world', style: red }];
    expect(
      highlight(
        spans,
        [
          { start: 4, end: 8 },
          { start: 9, end: 11 },
        ],
        1,
      ),
    ).toEqual([
      { text: 'hell' },
      { text: 'o ', match: 'other' },
      { text: 'wo', style: red, match: 'other' },
      { text: 'r', style: red },
      { text: 'ld', style: red, match: 'current' },
    ]);
  });
});
