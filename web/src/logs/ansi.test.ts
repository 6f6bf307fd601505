import { describe, expect, it } from 'vitest';
import { plainText, renderAnsi } from './ansi.ts';

const ESC = '\x1b';

describe('renderAnsi', () => {
  it('keeps plain text as one span', () => {
    expect(renderAnsi('npm install')).toEqual({
      spans: [{ text: 'npm install' }],
      text: 'npm install',
      length: 11,
      cut: false,
    });
  });

  it('renders red, green and bold text as styles, never as escape text', () => {
    const line = renderAnsi(
      `${ESC}[31merror${ESC}[0m ${ESC}[32mok${ESC}[39m ${ESC}[1mbold${ESC}[22m`,
    );
    expect(line.text).toBe('error ok bold');
    expect(line.spans).toEqual([
      { text: 'error', style: { color: '#ff6b6b' } },
      { text: ' ' },
      { text: 'ok', style: { color: '#4ade80' } },
      { text: ' ' },
      { text: 'bold', style: { bold: true } },
    ]);
  });

  it('renders 256-colour and truecolor codes, also in colon form', () => {
    const line = renderAnsi(
      `${ESC}[38;5;208morange${ESC}[0m${ESC}[48;2;10;20;30mbg${ESC}[0m` +
        `${ESC}[38:2::1:2:3mcolon${ESC}[m`,
    );
    expect(line.spans).toEqual([
      { text: 'orange', style: { color: 'rgb(255, 135, 0)' } },
      { text: 'bg', style: { background: 'rgb(10, 20, 30)' } },
      { text: 'colon', style: { color: 'rgb(1, 2, 3)' } },
    ]);
  });

  it('turns an OSC 8 hyperlink into a link that keeps its colour', () => {
    const line = renderAnsi(
      `see ${ESC}[34m${ESC}]8;;https://example.com/docs${ESC}\\docs` +
        `${ESC}]8;;${ESC}\\${ESC}[0m now`,
    );
    expect(line.text).toBe('see docs now');
    expect(line.spans).toEqual([
      { text: 'see ' },
      {
        text: 'docs',
        style: { color: '#60a5fa' },
        href: 'https://example.com/docs',
      },
      { text: ' now' },
    ]);
  });

  it('shows a link with an unsafe scheme as plain text', () => {
    const line = renderAnsi(`${ESC}]8;;javascript:alert(1)\x07x${ESC}]8;;\x07`);
    expect(line.spans).toEqual([{ text: 'x' }]);
  });

  it('removes cursor movement, titles and other sequences', () => {
    const line = renderAnsi(
      `${ESC}]0;window title\x07${ESC}[?25l${ESC}[2Aa${ESC}(Bb${ESC}7c` +
        `${ESC}[?25h\x00\x07d${ESC}`,
    );
    expect(line.text).toBe('abcd');
    expect(line.text).not.toContain(ESC);
  });

  it('shows only the final state of a \\r redrawn progress bar', () => {
    let raw = '';
    for (let percent = 0; percent <= 100; percent++) {
      raw += `\rDownloading [${'#'.repeat(percent / 10)}] ${percent}%`;
    }
    expect(renderAnsi(raw).text).toBe('Downloading [##########] 100%');
  });

  it('collapses a spinner redrawn 2,000 times, with erase codes', () => {
    const frames = ['|', '/', '-', '\\'];
    let raw = '';
    for (let i = 0; i < 2000; i++) raw += `\r${ESC}[2K${frames[i % 4]} working`;
    raw += `\r${ESC}[2K${ESC}[32mdone${ESC}[0m`;
    const line = renderAnsi(raw);
    expect(line.text).toBe('done');
    expect(line.spans).toEqual([{ text: 'done', style: { color: '#4ade80' } }]);
  });

  it('overwrites in place without erase, like a terminal', () => {
    expect(renderAnsi('hello world\rHELLO').text).toBe('HELLO world');
    expect(renderAnsi('abc\b\bX').text).toBe('aXc');
    expect(renderAnsi('line\r\n'.trimEnd() + '\r').text).toBe('line');
  });

  it('cuts a long line for display and keeps its length', () => {
    const raw = 'x'.repeat(70_000);
    const line = renderAnsi(raw, 2000);
    expect(line.cut).toBe(true);
    expect(line.length).toBe(70_000);
    expect(line.text).toHaveLength(2000);

    const coloured = renderAnsi(`${ESC}[31m${raw}`, 2000);
    expect(coloured.cut).toBe(true);
    expect(coloured.spans[0]?.text).toHaveLength(2000);
  });
});

describe('plainText', () => {
  it('is the visible text', () => {
    expect(plainText(`${ESC}[1mA${ESC}[0m\rB`)).toBe('B');
    expect(plainText('tab\tkept')).toBe('tab\tkept');
  });
});
