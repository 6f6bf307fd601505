import { describe, expect, it } from 'vitest';
import { normaliseTs, nowTs, tsFromNanos, tsToNanos } from './timestamps.ts';

describe('normaliseTs', () => {
  it('gives exactly nine fractional digits in UTC', () => {
    expect(normaliseTs('2026-03-01T10:00:00Z')).toBe(
      '2026-03-01T10:00:00.000000000Z',
    );
    expect(normaliseTs('2026-03-01T10:00:00.123Z')).toBe(
      '2026-03-01T10:00:00.123000000Z',
    );
    expect(normaliseTs('2026-03-01T10:00:00.123456789123Z')).toBe(
      '2026-03-01T10:00:00.123456789Z',
    );
    expect(normaliseTs('2026-03-01T11:30:00.5+01:30')).toBe(
      '2026-03-01T10:00:00.500000000Z',
    );
    expect(normaliseTs({ seconds: 1772359200, nanos: 7 })).toBe(
      '2026-03-01T10:00:00.000000007Z',
    );
  });

  it('refuses what is not a timestamp', () => {
    expect(normaliseTs('yesterday')).toBeNull();
    expect(normaliseTs(12)).toBeNull();
    expect(normaliseTs(undefined)).toBeNull();
  });
});

describe('nowTs', () => {
  it('increases strictly even within one millisecond', () => {
    const stamps = Array.from({ length: 1000 }, () => nowTs());
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('converts to and from nanoseconds', () => {
    const ts = '2026-03-01T10:00:00.000000007Z';
    expect(tsFromNanos(tsToNanos(ts) - 8n)).toBe(
      '2026-03-01T09:59:59.999999999Z',
    );
  });
});
