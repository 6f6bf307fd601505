import Anser from 'anser';

// Turns one stored log line (ANSI sequences, `\r` and `\b` kept as written)
// into what a terminal would finally show: styled spans, the plain text and
// whether the line was cut for display. Colours and text attributes come from
// SGR codes (via anser), OSC 8 hyperlinks become links, `\r`, `\b` and the
// cursor and erase codes of one line are applied, and every other escape
// sequence or control character is dropped, so raw escape text never shows.

export type SpanStyle = {
  color?: string;
  background?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  strikethrough?: boolean;
  hidden?: boolean;
};

export type Span = { text: string; style?: SpanStyle; href?: string };

export type RenderedLine = {
  spans: Span[];
  // The visible characters only, for search, copy and download.
  text: string;
  // Visible characters before any cut.
  length: number;
  cut: boolean;
};

// Escape sequences, in the order they are tried:
// OSC (ESC ] ... BEL or ST), CSI (ESC [ or 8-bit 0x9b), other ESC sequences,
// a lone ESC, and the C0 controls that a line may still hold.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\|$)|(?:\x1b\[|\x9b)([0-?]*)[ -/]*([@-~])|\x1b[ -/]*[0-~]|\x1b|[\x00-\x07\x0b\x0c\x0e-\x1f\x7f]|\r|\x08/g;

// eslint-disable-next-line no-control-regex
const NEEDS_PARSING = /[\x00-\x08\x0b-\x1f\x7f\x9b]/;

// anser's 16 basic colours are tuned for a black background; these read
// better on the viewer's dark grey.
const BASIC_COLOURS = new Map<string, string>([
  ['0, 0, 0', '#3b3f46'],
  ['187, 0, 0', '#ff6b6b'],
  ['0, 187, 0', '#4ade80'],
  ['187, 187, 0', '#facc15'],
  ['0, 0, 187', '#60a5fa'],
  ['187, 0, 187', '#e879f9'],
  ['0, 187, 187', '#22d3ee'],
  ['255,255,255', '#e5e7eb'],
  ['85, 85, 85', '#8b949e'],
  ['255, 85, 85', '#ff8f8f'],
  ['0, 255, 0', '#86efac'],
  ['255, 255, 85', '#fde68a'],
  ['85, 85, 255', '#93c5fd'],
  ['255, 85, 255', '#f5a3ff'],
  ['85, 255, 255', '#67e8f9'],
  ['255, 255, 255', '#ffffff'],
]);

function cssColour(rgb: string | null): string | undefined {
  if (!rgb) return undefined;
  return BASIC_COLOURS.get(rgb) ?? `rgb(${rgb})`;
}

type Anserish = {
  processChunk(
    text: string,
    options: { json: true; use_classes: false },
    markup: boolean,
  ): Anser.AnserJsonEntry;
};

function styleAfterSgr(anser: Anserish, params: string): SpanStyle | undefined {
  // Colon-separated forms (38:2::r:g:b, 38:5:n) are the same codes.
  const normal = params.replace(/([34]8):2::/g, '$1:2:').replaceAll(':', ';');
  const entry = anser.processChunk(
    `${normal}m`,
    { json: true, use_classes: false },
    true,
  );
  const decorations = new Set(entry.decorations);
  const style: SpanStyle = {};
  const color = cssColour(entry.fg);
  const background = cssColour(entry.bg);
  if (color) style.color = color;
  if (background) style.background = background;
  for (const name of [
    'bold',
    'dim',
    'italic',
    'underline',
    'strikethrough',
    'hidden',
  ] as const) {
    if (decorations.has(name)) style[name] = true;
  }
  return Object.keys(style).length > 0 ? style : undefined;
}

function safeHref(uri: string): string | undefined {
  return /^(https?:\/\/|mailto:)/i.test(uri) ? uri : undefined;
}

type Look = { style?: SpanStyle; href?: string };

// A one-line screen: a cell per character, each with the look it was
// written with.
class LineScreen {
  chars: string[] = [];
  looks: Look[] = [];
  cursor = 0;

  write(text: string, look: Look) {
    for (const ch of text) {
      while (this.chars.length < this.cursor) {
        this.chars.push(' ');
        this.looks.push({});
      }
      this.chars[this.cursor] = ch;
      this.looks[this.cursor] = look;
      this.cursor++;
    }
  }

  // CSI sequences that act within one line; the rest cannot be shown in a
  // single row and are dropped.
  control(final: string, params: string) {
    const n = Math.max(1, parseInt(params, 10) || 1);
    if (final === 'K') {
      const mode = parseInt(params, 10) || 0;
      if (mode === 0) {
        this.chars.length = Math.min(this.chars.length, this.cursor);
        this.looks.length = this.chars.length;
      } else if (mode === 1) {
        for (let i = 0; i < this.cursor && i < this.chars.length; i++) {
          this.chars[i] = ' ';
          this.looks[i] = {};
        }
      } else {
        this.chars = [];
        this.looks = [];
      }
    } else if (final === 'G') {
      this.cursor = n - 1;
    } else if (final === 'C') {
      this.cursor += n;
    } else if (final === 'D') {
      this.cursor = Math.max(0, this.cursor - n);
    }
  }
}

export function renderAnsi(raw: string, maxChars = Infinity): RenderedLine {
  if (!NEEDS_PARSING.test(raw)) return plainLine(raw, maxChars);

  const anser = new Anser() as unknown as Anserish;
  const screen = new LineScreen();
  let look: Look = {};
  let last = 0;
  for (const match of raw.matchAll(ESCAPES)) {
    screen.write(raw.slice(last, match.index), look);
    last = match.index + match[0].length;
    const [whole, osc, csiParams, csiFinal] = match;
    if (osc !== undefined) {
      const link = /^8;[^;]*;(.*)$/s.exec(osc);
      if (link) look = { ...look, href: safeHref(link[1] ?? '') };
    } else if (csiFinal === 'm') {
      look = { ...look, style: styleAfterSgr(anser, csiParams ?? '') };
    } else if (csiFinal !== undefined) {
      screen.control(csiFinal, csiParams ?? '');
    } else if (whole === '\r') {
      screen.cursor = 0;
    } else if (whole === '\b') {
      screen.cursor = Math.max(0, screen.cursor - 1);
    }
  }
  screen.write(raw.slice(last), look);

  return toSpans(screen.chars, screen.looks, maxChars);
}

function plainLine(raw: string, maxChars: number): RenderedLine {
  const cut = raw.length > maxChars;
  const text = cut ? raw.slice(0, maxChars) : raw;
  return { spans: [{ text }], text, length: raw.length, cut };
}

function toSpans(chars: string[], looks: Look[], maxChars: number) {
  const length = chars.length;
  const cut = length > maxChars;
  const end = cut ? maxChars : length;
  const spans: Span[] = [];
  let text = '';
  for (let start = 0; start < end;) {
    const look = looks[start] ?? {};
    let stop = start + 1;
    while (stop < end && sameLook(looks[stop], look)) stop++;
    const piece = chars.slice(start, stop).join('');
    const span: Span = { text: piece };
    if (look.style) span.style = look.style;
    if (look.href) span.href = look.href;
    spans.push(span);
    text += piece;
    start = stop;
  }
  return { spans, text, length, cut };
}

function sameLook(a: Look | undefined, b: Look): boolean {
  return a !== undefined && a.style === b.style && a.href === b.href;
}

// The visible text of a line, for search and download.
export function plainText(raw: string): string {
  return NEEDS_PARSING.test(raw) ? renderAnsi(raw).text : raw;
}
