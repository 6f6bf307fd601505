// A line longer than the limit keeps its first `maxBytes` bytes of UTF-8,
// cut where a character starts, and records its whole length in bytes.
export function cutLine(
  text: string,
  maxBytes: number,
): { text: string; fullLength?: number } {
  const fullLength = Buffer.byteLength(text, 'utf8');
  if (fullLength <= maxBytes) return { text };

  const bytes = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // UTF-8 continuation bytes look like 10xxxxxx: back off to a lead byte.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  const kept = bytes
    .subarray(0, end)
    .toString('utf8')
    // Half an escape sequence would show as stray characters.
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b(\[[0-9;?]*)?$/, '');
  return { text: kept, fullLength };
}
