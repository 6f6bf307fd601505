import { describe, expect, it } from 'vitest';
import {
  formatTimestamp,
  lineAnchor,
  logAsText,
  parseLineAnchor,
} from './format.ts';

describe('formatTimestamp', () => {
  it('shows UTC time to the millisecond and the date when it changes', () => {
    const first = '2026-12-03T23:59:59.123456789Z';
    const second = '2026-12-04T00:00:00.500000000Z';
    expect(formatTimestamp(first, 'utc')).toEqual({
      time: '23:59:59.123',
      date: '2026-12-03',
    });
    expect(formatTimestamp(first, 'utc', first)).toEqual({
      time: '23:59:59.123',
      date: null,
    });
    expect(formatTimestamp(second, 'utc', first)).toEqual({
      time: '00:00:00.500',
      date: '2026-12-04',
    });
  });

  it('shows local time in the local zone', () => {
    const ts = '2026-12-03T12:00:00.000000000Z';
    const local = new Date(ts);
    const expected = [local.getHours(), local.getMinutes(), 0]
      .map((n) => String(n).padStart(2, '0'))
      .join(':');
    expect(formatTimestamp(ts, 'local').time).toBe(`${expected}.000`);
  });
});

describe('line anchors', () => {
  it('round-trips #L120 and refuses anything else', () => {
    expect(lineAnchor(120)).toBe('#L120');
    expect(parseLineAnchor('#L120')).toBe(120);
    expect(parseLineAnchor('#L0')).toBeNull();
    expect(parseLineAnchor('#l12')).toBeNull();
    expect(parseLineAnchor('#L12x')).toBeNull();
  });
});

describe('logAsText', () => {
  it('writes the visible text of each line with its timestamp', () => {
    const lines = [
      { id: 'a', ts: 't1', text: '\x1b[31mred\x1b[0m', source: 'build' },
      { id: 'b', ts: 't2', text: '0%\r100%', source: 'build' },
    ] as const;
    expect(logAsText(lines)).toBe('t1 red\nt2 100%\n');
  });
});
