import { describe, expect, it } from 'vitest';
import { nameFromSource, slugify } from './slug.ts';

describe('slugify', () => {
  it('keeps lowercase letters, digits and single dashes', () => {
    expect(slugify('  My Weather Server! ')).toBe('my-weather-server');
    expect(slugify('Café_2')).toBe('cafe-2');
  });
});

describe('nameFromSource', () => {
  it('takes the package or repository name', () => {
    expect(
      nameFromSource('@modelcontextprotocol/server-everything@2026.8.31'),
    ).toBe('server-everything');
    expect(nameFromSource('left-pad')).toBe('left-pad');
    expect(nameFromSource('https://github.com/acme/weather-mcp.git')).toBe(
      'weather-mcp',
    );
    expect(nameFromSource('/home/me/src/tools/')).toBe('tools');
  });
});
