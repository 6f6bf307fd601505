import type { LogLine } from '@sigyl/types';
import { plainText } from './ansi.ts';

export type TimeZoneChoice = 'local' | 'utc';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

// A line's ts (nine fractional digits) as a time to the millisecond, plus the
// date when it differs from the previous shown line's date (or on the first).
export function formatTimestamp(
  ts: string,
  zone: TimeZoneChoice,
  previousTs?: string,
): { time: string; date: string | null } {
  const date = dateOf(ts, zone);
  const at = new Date(ts);
  const parts =
    zone === 'utc'
      ? [at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()]
      : [at.getHours(), at.getMinutes(), at.getSeconds()];
  const millis = pad(at.getUTCMilliseconds(), 3);
  const time = `${parts.map((n) => pad(n)).join(':')}.${millis}`;
  const changed = previousTs === undefined || dateOf(previousTs, zone) !== date;
  return { time, date: changed ? date : null };
}

function dateOf(ts: string, zone: TimeZoneChoice): string {
  const at = new Date(ts);
  return zone === 'utc'
    ? `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`
    : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

// `#L120` <-> 120.
export function lineAnchor(lineNumber: number): string {
  return `#L${lineNumber}`;
}

export function parseLineAnchor(hash: string): number | null {
  const match = /^#L([1-9]\d*)$/.exec(hash);
  return match ? Number(match[1]) : null;
}

// The whole log as a text file: one line per entry, ts first, visible text.
export function logAsText(lines: readonly LogLine[]): string {
  return lines.map((l) => `${l.ts} ${plainText(l.text)}\n`).join('');
}
