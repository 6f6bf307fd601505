import type { CSSProperties } from 'react';
import type { SpanStyle } from '../logs/ansi.ts';
import type { HighlightedSpan } from '../logs/search.ts';

function css(style: SpanStyle | undefined): CSSProperties | undefined {
  if (!style) return undefined;
  const lines = [
    style.underline ? 'underline' : '',
    style.strikethrough ? 'line-through' : '',
  ].filter(Boolean);
  return {
    color: style.color,
    background: style.background,
    fontWeight: style.bold ? 700 : undefined,
    opacity: style.dim ? 0.7 : undefined,
    fontStyle: style.italic ? 'italic' : undefined,
    textDecoration: lines.length ? lines.join(' ') : undefined,
    visibility: style.hidden ? 'hidden' : undefined,
  };
}

// Styled text of a log line; links only for http(s) and mailto targets
// (ansi.ts drops the rest).
export function Spans({ spans }: { spans: readonly HighlightedSpan[] }) {
  return spans.map((span, i) => {
    const className = span.match ? `match ${span.match}` : undefined;
    if (span.href) {
      return (
        <a
          key={i}
          href={span.href}
          target="_blank"
          rel="noreferrer noopener"
          style={css(span.style)}
          className={className}
        >
          {span.text}
        </a>
      );
    }
    if (!span.style && !className) return span.text;
    return (
      <span key={i} style={css(span.style)} className={className}>
        {span.text}
      </span>
    );
  });
}
