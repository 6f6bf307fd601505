import type { LineSource, LogLine } from '@sigyl/types';

export type LineFilter = {
  // Sources to show; all when empty.
  sources: ReadonlySet<LineSource>;
  // Build steps to show; all when empty. Lines without a step always show.
  steps: ReadonlySet<string>;
};

export const NO_FILTER: LineFilter = { sources: new Set(), steps: new Set() };

export function isFiltering(filter: LineFilter): boolean {
  return filter.sources.size > 0 || filter.steps.size > 0;
}

// Indexes into `lines` of the lines the filter lets through.
export function filterLines(
  lines: readonly LogLine[],
  filter: LineFilter,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (passes(lines[i]!, filter)) out.push(i);
  }
  return out;
}

function passes(line: LogLine, { sources, steps }: LineFilter): boolean {
  if (sources.size > 0 && !sources.has(line.source)) return false;
  if (steps.size > 0 && line.step !== undefined && !steps.has(line.step)) {
    return false;
  }
  return true;
}

// The step names present, in order of first appearance.
export function stepsOf(lines: readonly LogLine[]): string[] {
  const seen = new Set<string>();
  for (const line of lines) if (line.step) seen.add(line.step);
  return [...seen];
}
