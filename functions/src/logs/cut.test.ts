import { describe, expect, it } from 'vitest';
import { cutLine } from './cut.ts';

describe('cutLine', () => {
  it('leaves a line within the limit alone', () => {
    expect(cutLine('héllo', 6)).toEqual({ text: 'héllo' });
  });

  it('never cuts inside a multi-byte character', () => {
    // '€' is 3 bytes and '😀' 4: try every cut position around them.
    const text = 'ab€😀€😀c';
    for (let limit = 0; limit < Buffer.byteLength(text); limit++) {
      const cut = cutLine(text, limit);
      expect(text.startsWith(cut.text)).toBe(true);
      expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(limit);
      expect(Buffer.byteLength(cut.text)).toBeGreaterThan(limit - 4);
      expect(cut.fullLength).toBe(Buffer.byteLength(text));
    }
  });

  it('drops half an escape sequence at the cut', () => {
    expect(cutLine('ok \x1b[31mred', 6).text).toBe('ok ');
  });
});
