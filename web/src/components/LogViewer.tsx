import type { LineSource, LogLine, LogStats } from '@sigyl/types';
import { compareLines } from '@sigyl/types';
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  useDeferredValue,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type CSSProperties,
  type KeyboardEvent,
} from 'react';
import { plainText, renderAnsi, type RenderedLine } from '../logs/ansi.ts';
import {
  filterLines,
  isFiltering,
  stepsOf,
  type LineFilter,
} from '../logs/filters.ts';
import {
  formatTimestamp,
  lineAnchor,
  logAsText,
  parseLineAnchor,
  type TimeZoneChoice,
} from '../logs/format.ts';
import { findMatches, highlight, type Match } from '../logs/search.ts';
import type { LogStream } from '../logs/useLogStream.ts';
import { Spans } from './Spans.tsx';

const ROW_HEIGHT = 20;
// Characters of a line shown in its row; the rest is one click away.
const ROW_CHARS = 2000;
const SOURCES: LineSource[] = ['build', 'runtime', 'system'];

const rendered = new WeakMap<LogLine, RenderedLine>();
function renderLine(line: LogLine): RenderedLine {
  let result = rendered.get(line);
  if (!result) {
    result = renderAnsi(line.text, ROW_CHARS);
    rendered.set(line, result);
  }
  return result;
}

const plain = new WeakMap<LogLine, string>();
function plainOf(line: LogLine): string {
  let text = plain.get(line);
  if (text === undefined) {
    text = plainText(line.text);
    plain.set(line, text);
  }
  return text;
}

type Props = {
  stream: LogStream;
  stats: LogStats | null;
  // The newest of lastLineAt and the last line's ts, for "last line N s ago".
  lastLineAt: string | null;
  running: boolean;
  fileName: string;
};

export function LogViewer({
  stream,
  stats,
  lastLineAt,
  running,
  fileName,
}: Props) {
  const { store, version, hasOlder } = stream;
  const scroller = useRef<HTMLDivElement>(null);
  const [filter, setFilter] = useState<LineFilter>({
    sources: new Set(),
    steps: new Set(),
  });
  const [zone, setZone] = useState<TimeZoneChoice | 'off'>('off');
  const [following, setFollowing] = useState(true);
  const [liveAtDetach, setLiveAtDetach] = useState(0);
  const [targetLine, setTargetLine] = useState<number | null>(() =>
    parseLineAnchor(location.hash),
  );
  const [whole, setWhole] = useState<LogLine | null>(null);

  // Row order: indexes into the store, narrowed by the filter.
  const rows = useMemo(
    () =>
      isFiltering(filter)
        ? filterLines(store.lines, filter)
        : store.lines.map((_, i) => i),
    [store, version, filter],
  );
  const steps = useMemo(() => stepsOf(store.lines), [store, version]);

  // Line numbers count from the start of the whole log; while older chunks
  // are not loaded, the stored-line count tells how many come before.
  const firstNumber = hasOlder
    ? Math.max(1, (stats?.lines ?? store.size) - store.size + 1)
    : 1;

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 30,
  });

  // Keep the reader's place when lines land above it (older pages, late
  // lines, filter changes): remember the top line and find it again. When
  // following, stay at the end instead.
  const topLine = useRef<LogLine | null>(null);
  const followingNow = useRef(following);
  followingNow.current = following;
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (followingNow.current) {
      element.scrollTop = element.scrollHeight;
      return;
    }
    const anchor = topLine.current;
    if (!anchor) return;
    const index = lowerBound(rows, store.lines, anchor);
    const offset = element.scrollTop % ROW_HEIGHT;
    const wanted = index * ROW_HEIGHT + offset;
    if (Math.abs(element.scrollTop - wanted) >= ROW_HEIGHT) {
      element.scrollTop = wanted;
    }
  }, [rows, store]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const atEnd =
      element.scrollTop + element.clientHeight >=
      element.scrollHeight - ROW_HEIGHT * 1.5;
    const top = rows[Math.floor(element.scrollTop / ROW_HEIGHT)];
    topLine.current = top === undefined ? null : (store.lines[top] ?? null);
    if (atEnd !== following) {
      setFollowing(atEnd);
      if (!atEnd) setLiveAtDetach(stream.liveAdded);
    }
    if (element.scrollTop < ROW_HEIGHT * 5 && hasOlder && !atEnd) {
      void stream.loadOlder();
    }
  };

  const jumpToLatest = () => {
    setFollowing(true);
    setTargetLine(null);
    const element = scroller.current;
    if (element) element.scrollTop = element.scrollHeight;
  };

  // #L120: load older pages until the line is here, then scroll to it once;
  // it stays highlighted while the reader moves on.
  const scrolledToTarget = useRef(false);
  useEffect(() => {
    const onHash = () => {
      scrolledToTarget.current = false;
      setTargetLine(parseLineAnchor(location.hash));
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (targetLine === null || scrolledToTarget.current) return;
    if (store.size === 0) return;
    if (targetLine < firstNumber && hasOlder) {
      void stream.loadOlder();
      return;
    }
    const row = rows.indexOf(targetLine - firstNumber);
    if (row === -1) return;
    scrolledToTarget.current = true;
    setFollowing(false);
    virtualizer.scrollToIndex(row, { align: 'center' });
  }, [targetLine, firstNumber, hasOlder, rows, store, stream, virtualizer]);

  // Search over the visible text of the rows in view order.
  const [queryText, setQueryText] = useState('');
  const deferredQuery = useDeferredValue(queryText);
  const search = useMemo(
    () =>
      deferredQuery
        ? findMatches(
            rows.map((i) => plainOf(store.lines[i]!)),
            deferredQuery,
          )
        : { matches: [], capped: false },
    [rows, deferredQuery],
  );
  const [current, setCurrent] = useState(0);
  useEffect(() => setCurrent(0), [deferredQuery]);
  const matchesByRow = useMemo(() => {
    const byRow = new Map<number, { match: Match; index: number }[]>();
    search.matches.forEach((match, index) => {
      const list = byRow.get(match.row) ?? [];
      list.push({ match, index });
      byRow.set(match.row, list);
    });
    return byRow;
  }, [search]);
  const goToMatch = (step: number) => {
    const count = search.matches.length;
    if (count === 0) return;
    const next = (current + step + count) % count;
    setCurrent(next);
    setFollowing(false);
    virtualizer.scrollToIndex(search.matches[next]!.row, { align: 'center' });
  };
  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      goToMatch(event.shiftKey ? -1 : 1);
    } else if (event.key === 'Escape') {
      setQueryText('');
    }
  };

  const [downloading, setDownloading] = useState(false);
  const download = async () => {
    setDownloading(true);
    try {
      let more = hasOlder;
      while (more) more = await stream.loadOlder();
      const blob = new Blob([logAsText(store.lines)], { type: 'text/plain' });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = fileName;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } finally {
      setDownloading(false);
    }
  };

  const toggleSource = (source: LineSource) => {
    const sources = new Set(filter.sources);
    if (sources.has(source)) sources.delete(source);
    else sources.add(source);
    setFilter({ ...filter, sources });
  };

  const newCount = following ? 0 : stream.liveAdded - liveAtDetach;
  const items = virtualizer.getVirtualItems();

  return (
    <section className="log-panel" aria-label="Deployment log">
      <div className="log-toolbar">
        <div className="log-search">
          <input
            type="search"
            placeholder="Search log"
            aria-label="Search log"
            value={queryText}
            onChange={(e) => setQueryText(e.target.value)}
            onKeyDown={onSearchKey}
          />
          <span className="match-count" aria-live="polite">
            {deferredQuery &&
              (search.matches.length === 0
                ? 'No matches'
                : `${current + 1} of ${search.matches.length}${search.capped ? '+' : ''}`)}
          </span>
          <button
            type="button"
            className="icon-button"
            aria-label="Previous match"
            onClick={() => goToMatch(-1)}
          >
            ↑
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label="Next match"
            onClick={() => goToMatch(1)}
          >
            ↓
          </button>
        </div>
        <div className="log-filters" role="group" aria-label="Sources">
          {SOURCES.map((source) => (
            <button
              key={source}
              type="button"
              className="chip"
              aria-pressed={filter.sources.has(source)}
              onClick={() => toggleSource(source)}
            >
              {source}
            </button>
          ))}
          {steps.length > 0 && (
            <select
              aria-label="Step"
              value={[...filter.steps][0] ?? ''}
              onChange={(e) =>
                setFilter({
                  ...filter,
                  steps: new Set(e.target.value ? [e.target.value] : []),
                })
              }
            >
              <option value="">All steps</option>
              {steps.map((step) => (
                <option key={step} value={step}>
                  {step}
                </option>
              ))}
            </select>
          )}
          <select
            aria-label="Timestamps"
            value={zone}
            onChange={(e) => setZone(e.target.value as TimeZoneChoice | 'off')}
          >
            <option value="off">No times</option>
            <option value="local">Local time</option>
            <option value="utc">UTC</option>
          </select>
          <button
            type="button"
            className="button small"
            onClick={() => void download()}
            disabled={downloading}
          >
            {downloading ? 'Preparing…' : 'Download'}
          </button>
        </div>
        <ConnectionState
          connection={stream.connection}
          lastLineAt={lastLineAt}
          running={running}
        />
      </div>

      {stream.error && (
        <p className="log-error" role="alert">
          The log could not be read: {stream.error}
        </p>
      )}
      {hasOlder && !stream.filling && (
        <button
          type="button"
          className="load-older"
          onClick={() => void stream.loadOlder()}
          disabled={stream.loadingOlder}
        >
          {stream.loadingOlder ? 'Loading older lines…' : 'Load older lines'}
        </button>
      )}
      <div
        ref={scroller}
        className="log-viewer"
        data-testid="log-viewer"
        role="log"
        aria-label="Log lines"
        tabIndex={0}
        onScroll={onScroll}
      >
        {store.size === 0 && (
          <p className="log-empty">
            {stream.connection === 'connecting'
              ? 'Connecting…'
              : running
                ? 'Waiting for the first line…'
                : 'This deployment wrote no log lines.'}
          </p>
        )}
        <div
          className="log-rows"
          style={{ height: virtualizer.getTotalSize() }}
        >
          {items.map((item) => {
            const index = rows[item.index]!;
            const line = store.lines[index]!;
            const previous =
              item.index > 0 ? store.lines[rows[item.index - 1]!] : undefined;
            const number = firstNumber + index;
            return (
              <LogRow
                key={line.id}
                line={line}
                number={number}
                previousTs={previous?.ts}
                zone={zone}
                target={number === targetLine}
                matches={matchesByRow.get(item.index)}
                currentMatch={current}
                style={{ transform: `translateY(${item.start}px)` }}
                onShowWhole={() => setWhole(line)}
              />
            );
          })}
        </div>
      </div>
      {!following && (
        <button
          type="button"
          className="jump-to-latest"
          data-testid="jump-to-latest"
          onClick={jumpToLatest}
        >
          Jump to latest{newCount > 0 ? ` (${newCount} new)` : ''}
        </button>
      )}
      {whole && <WholeLine line={whole} onClose={() => setWhole(null)} />}
    </section>
  );
}

type RowProps = {
  line: LogLine;
  number: number;
  previousTs: string | undefined;
  zone: TimeZoneChoice | 'off';
  target: boolean;
  matches: { match: Match; index: number }[] | undefined;
  currentMatch: number;
  style: CSSProperties;
  onShowWhole(): void;
};

function LogRow({
  line,
  number,
  previousTs,
  zone,
  target,
  matches,
  currentMatch,
  style,
  onShowWhole,
}: RowProps) {
  const view = renderLine(line);
  const stamp =
    zone === 'off' ? null : formatTimestamp(line.ts, zone, previousTs);
  const current = matches?.findIndex((m) => m.index === currentMatch) ?? -1;
  const spans = matches
    ? highlight(
        view.spans,
        matches.map((m) => m.match),
        current,
      )
    : view.spans;
  const truncated = view.cut || line.fullLength !== undefined;
  return (
    <div
      className={`log-row source-${line.source}${target ? ' target' : ''}${
        line.stream === 'stderr' ? ' stderr' : ''
      }`}
      data-testid="log-line"
      data-line={number}
      id={`L${number}`}
      style={style}
    >
      <a className="line-number" href={lineAnchor(number)} tabIndex={-1}>
        {number}
      </a>
      {stamp && (
        <time className="timestamp" dateTime={line.ts}>
          {stamp.date && <span className="date">{stamp.date} </span>}
          {stamp.time}
        </time>
      )}
      <span className="line-text">
        <Spans spans={spans} />
      </span>
      {truncated && (
        <button type="button" className="show-whole" onClick={onShowWhole}>
          show whole line ({(line.fullLength ?? view.length).toLocaleString()}{' '}
          {line.fullLength ? 'bytes' : 'characters'})
        </button>
      )}
    </div>
  );
}

function WholeLine({ line, onClose }: { line: LogLine; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => dialog.current?.showModal(), []);
  const view = useMemo(() => renderAnsi(line.text), [line]);
  return (
    <dialog ref={dialog} className="whole-line" onClose={onClose}>
      <header>
        <h2>Whole line</h2>
        <button type="button" className="button small" onClick={onClose}>
          Close
        </button>
      </header>
      {line.fullLength !== undefined && (
        <p className="note">
          This line was {line.fullLength.toLocaleString()} bytes long; the first{' '}
          {new Blob([line.text]).size.toLocaleString()} bytes were stored.
        </p>
      )}
      <pre className="whole-line-text">
        <Spans spans={view.spans} />
      </pre>
    </dialog>
  );
}

function ConnectionState({
  connection,
  lastLineAt,
  running,
}: {
  connection: LogStream['connection'];
  lastLineAt: string | null;
  running: boolean;
}) {
  const now = useNow(running ? 1000 : null);
  const quietFor = lastLineAt
    ? Math.floor((now - Date.parse(lastLineAt)) / 1000)
    : null;
  const labels = {
    connecting: 'Connecting',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };
  return (
    <div className="connection" data-connection={connection}>
      <span className="dot" aria-hidden="true" />
      <span>{labels[connection]}</span>
      {running && quietFor !== null && quietFor >= 5 && (
        <span className="quiet">· last line {formatAge(quietFor)} ago</span>
      )}
    </div>
  );
}

export function useNow(intervalMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (intervalMs === null) return;
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}

// The first row position whose line sorts at or after `line`.
function lowerBound(rows: number[], lines: LogLine[], line: LogLine): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareLines(lines[rows[mid]!]!, line) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
