// Line timestamps are RFC 3339 UTC with exactly nine fractional digits, so
// that string order is time order.

const RFC3339 =
  /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

// Accepts an RFC 3339 string with any number of fractional digits and any
// offset, or a protobuf Timestamp object; returns null for anything else.
export function normaliseTs(value: unknown): string | null {
  if (typeof value === 'object' && value !== null && 'seconds' in value) {
    const { seconds, nanos } = value as { seconds: unknown; nanos?: unknown };
    const whole = Number(seconds);
    const fraction = Number(nanos ?? 0);
    if (!Number.isInteger(whole) || !Number.isInteger(fraction)) return null;
    return tsFromNanos(BigInt(whole) * 1_000_000_000n + BigInt(fraction));
  }
  if (typeof value !== 'string') return null;
  const match = RFC3339.exec(value.trim());
  if (!match) return null;
  const [, date, time, fraction = '', offset = 'Z'] = match;
  const millis = Date.parse(`${date}T${time}${offset.toUpperCase()}`);
  if (Number.isNaN(millis)) return null;
  const seconds = new Date(millis).toISOString().slice(0, 19);
  return `${seconds}.${fraction.padEnd(9, '0').slice(0, 9)}Z`;
}

export function tsFromNanos(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${fraction}Z`;
}

// Only for timestamps in the normalised form.
export function tsToNanos(ts: string): bigint {
  const seconds = BigInt(Date.parse(ts.slice(0, 19) + 'Z') / 1000);
  return seconds * 1_000_000_000n + BigInt(ts.slice(20, 29));
}

let lastNanos = 0n;

// Now, strictly increasing within this process: lines written in the same
// millisecond still sort in the order they were written.
export function nowTs(): string {
  let nanos = BigInt(Date.now()) * 1_000_000n;
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return tsFromNanos(nanos);
}
