import { compareLines, type LogLine } from '@sigyl/types';

// The lines of one deployment loaded so far, de-duplicated by id and kept in
// (ts, id) order. Chunks arrive newest first, live and redelivered, so adding
// is incremental: new lines that sort after the end are appended, and only a
// late or older batch costs a merge. A line that comes again with the same id
// but other content (the log-limit notice, rewritten as the kept tail moves)
// replaces the one held.
export class LineStore {
  readonly lines: LogLine[] = [];
  private readonly byId = new Map<string, LogLine>();

  get size(): number {
    return this.lines.length;
  }

  // Returns how many lines were new, and how many of them landed before the
  // previous last line (so a view anchored to a row can stay put).
  add(batch: readonly LogLine[]): { added: number; before: number } {
    const fresh: LogLine[] = [];
    for (const line of batch) {
      const held = this.byId.get(line.id);
      if (held && held.ts === line.ts && held.text === line.text) continue;
      if (held) this.remove(held);
      this.byId.set(line.id, line);
      fresh.push(line);
    }
    if (fresh.length === 0) return { added: 0, before: 0 };
    fresh.sort(compareLines);

    const last = this.lines.at(-1);
    const first = fresh[0]!;
    if (!last || compareLines(last, first) < 0) {
      for (const line of fresh) this.lines.push(line);
      return { added: fresh.length, before: 0 };
    }

    const before = fresh.filter((line) => compareLines(line, last) < 0).length;
    const merged = mergeSorted(this.lines, fresh);
    this.lines.length = 0;
    for (const line of merged) this.lines.push(line);
    return { added: fresh.length, before };
  }

  private remove(line: LogLine) {
    let low = 0;
    let high = this.lines.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareLines(this.lines[mid]!, line) < 0) low = mid + 1;
      else high = mid;
    }
    if (this.lines[low] === line) this.lines.splice(low, 1);
  }
}

function mergeSorted(a: LogLine[], b: LogLine[]): LogLine[] {
  const out: LogLine[] = new Array<LogLine>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    out[k++] = compareLines(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
