import type { Span } from './ansi.ts';

export type Match = { row: number; start: number; end: number };

// Every occurrence of the query in the given rows' visible text, case
// insensitive, in reading order. Capped so a one-letter query on a huge log
// stays cheap; the count says when it was capped.
export function findMatches(
  rows: readonly string[],
  query: string,
  limit = 10_000,
): { matches: Match[]; capped: boolean } {
  const matches: Match[] = [];
  if (!query) return { matches, capped: false };
  const needle = query.toLowerCase();
  for (let row = 0; row < rows.length; row++) {
    const haystack = rows[row]!.toLowerCase();
    let at = haystack.indexOf(needle);
    while (at !== -1) {
      if (matches.length === limit) return { matches, capped: true };
      matches.push({ row, start: at, end: at + needle.length });
      at = haystack.indexOf(needle, at + needle.length);
    }
  }
  return { matches, capped: false };
}

export type HighlightedSpan = Span & { match?: 'current' | 'other' };

// Splits a row's spans at match boundaries so that matched text can be
// marked; `current` is the index among `ranges` of the selected match.
export function highlight(
  spans: readonly Span[],
  ranges: readonly { start: number; end: number }[],
  current = -1,
): HighlightedSpan[] {
  if (ranges.length === 0) return [...spans];
  const out: HighlightedSpan[] = [];
  let offset = 0;
  for (const span of spans) {
    const spanEnd = offset + span.text.length;
    let cursor = offset;
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i]!;
      const start = Math.max(range.start, cursor);
      const end = Math.min(range.end, spanEnd);
      if (start >= end) continue;
      if (start > cursor) out.push(piece(span, cursor, start, offset));
      out.push({
        ...piece(span, start, end, offset),
        match: i === current ? 'current' : 'other',
      });
      cursor = end;
    }
    if (cursor < spanEnd) out.push(piece(span, cursor, spanEnd, offset));
    offset = spanEnd;
  }
  return out;
}

function piece(span: Span, from: number, to: number, offset: number): Span {
  return { ...span, text: span.text.slice(from - offset, to - offset) };
}
