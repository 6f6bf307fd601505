import type { LogLine } from '@sigyl/types';
import { describe, expect, it } from 'vitest';
import { LineStore } from './lineStore.ts';

function line(n: number, id = `l${n}`): LogLine {
  const nanos = String(n).padStart(9, '0');
  return {
    id,
    ts: `2026-12-03T10:00:00.${nanos}Z`,
    text: `${n}`,
    source: 'build',
  };
}

const texts = (store: LineStore) => store.lines.map((l) => l.text);

describe('LineStore', () => {
  it('appends chunks that arrive in order', () => {
    const store = new LineStore();
    expect(store.add([line(1), line(2)])).toEqual({ added: 2, before: 0 });
    expect(store.add([line(3)])).toEqual({ added: 1, before: 0 });
    expect(texts(store)).toEqual(['1', '2', '3']);
  });

  it('drops lines whose id it already holds (redelivered entries)', () => {
    const store = new LineStore();
    store.add([line(1), line(2)]);
    expect(store.add([line(2), line(3), line(3)])).toEqual({
      added: 1,
      before: 0,
    });
    expect(texts(store)).toEqual(['1', '2', '3']);
  });

  it('orders by ts, then id, whatever order chunks come in', () => {
    const store = new LineStore();
    store.add([line(5), line(4)]);
    expect(store.add([line(1), line(2)])).toEqual({ added: 2, before: 2 });
    store.add([line(3)]);
    const sameTick = [line(6, 'b'), line(6, 'a')];
    store.add(sameTick);
    expect(store.lines.map((l) => l.id)).toEqual([
      'l1',
      'l2',
      'l3',
      'l4',
      'l5',
      'a',
      'b',
    ]);
  });

  it('replaces a line that comes again with other content', () => {
    const store = new LineStore();
    store.add([line(1), line(2, 'notice'), line(3)]);
    store.add([{ ...line(5, 'notice'), text: '40 lines left out' }]);
    expect(texts(store)).toEqual(['1', '3', '40 lines left out']);
    expect(store.size).toBe(3);
  });

  it('merges a late line into place among 200,000 lines', () => {
    const store = new LineStore();
    const all = Array.from({ length: 200_000 }, (_, i) => line(i + 1));
    const late = all.splice(100_000, 1);
    for (let i = 0; i < all.length; i += 500) store.add(all.slice(i, i + 500));
    expect(store.add(late)).toEqual({ added: 1, before: 1 });
    expect(store.size).toBe(200_000);
    expect(store.lines[100_000]?.text).toBe('100001');
  });
});
