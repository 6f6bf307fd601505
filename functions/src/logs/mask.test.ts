import { describe, expect, it } from 'vitest';
import { MASK, secretMasker } from './mask.ts';

describe('secretMasker', () => {
  it('masks a value wherever it appears', () => {
    const mask = secretMasker({ TOKEN: 'abc.def+1' });
    expect(mask('TOKEN=abc.def+1; again abc.def+1')).toBe(
      `TOKEN=${MASK}; again ${MASK}`,
    );
    expect(mask('abcXdef+1')).toBe('abcXdef+1');
  });

  it('masks each line of a multi-line value and its JSON form', () => {
    const pem =
      '-----BEGIN KEY-----\r\nAAAABBBBCCCCDDDD\r\nEEEEFFFFGGGG==\r\n-----END KEY-----';
    const mask = secretMasker({ PEM: pem });
    expect(mask('  AAAABBBBCCCCDDDD')).toBe(`  ${MASK}`);
    expect(mask(`key: ${pem}`)).toBe(`key: ${MASK}`);
    expect(mask(JSON.stringify({ pem }))).toBe(`{"pem":"${MASK}"}`);
  });

  it('leaves text alone when values are too short to be secrets', () => {
    const mask = secretMasker({ DEBUG: '1', EMPTY: '' });
    expect(mask('line 1 of 10')).toBe('line 1 of 10');
  });
});
