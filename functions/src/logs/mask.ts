export const MASK = '*****';

// Values shorter than this are not masked: masking "1" or "on" would wreck
// every line and hide nothing worth hiding.
const MIN_VALUE_LENGTH = 3;
// Lines of a multi-line value (a PEM key, say) are masked on their own too,
// because a program that prints the value prints each line as its own log
// line. Short lines ("==") are left alone for the reason above.
const MIN_PART_LENGTH = 8;

export type Masker = (text: string) => string;

export function secretMasker(secrets: Record<string, string>): Masker {
  const needles = new Set<string>();
  for (const value of Object.values(secrets)) {
    if (typeof value !== 'string') continue;
    if (value.length >= MIN_VALUE_LENGTH) needles.add(value);
    if (!/[\r\n]/.test(value)) continue;
    // As printed inside JSON: newlines escaped.
    needles.add(JSON.stringify(value).slice(1, -1));
    for (const part of value.split(/\r?\n|\r/)) {
      const trimmed = part.trim();
      if (trimmed.length >= MIN_PART_LENGTH) needles.add(trimmed);
    }
  }
  if (needles.size === 0) return (text) => text;

  // Longest first, so a whole value wins over one of its lines.
  const pattern = new RegExp(
    [...needles]
      .sort((a, b) => b.length - a.length)
      .map((needle) => needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  return (text) => text.replace(pattern, MASK);
}
