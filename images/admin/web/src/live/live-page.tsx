// Live: every channel's entries as they are published, filtered, paused, followed, with history
// loaded from the archive when the user scrolls to the top.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorMessage, query } from '../api';
import { type ArchivedMessage, LEVELS, type LiveEntry, type SearchPage } from '../api-types';
import { EnvelopeView } from '../envelope-view';
import { plural, timeOf } from '../format';
import { EMPTY_FILTER, entryOfRecord, keep, type KeptEntry, LiveBuffer, type LiveFilter } from './live-buffer';
import { VirtualList } from './virtual-list';

const CAPACITY = 50_000;
const PAUSED_CAPACITY = 50_000;
/** What a pause may hold back, besides the buffer's own 64 MiB. */
const PAUSED_MAX_BYTES = 32 * 1024 * 1024;
const ROW_HEIGHT = 26;
const HISTORY_PAGE = 200;

type Connection = 'connecting' | 'open' | 'reconnecting';

export function LivePage() {
  const buffer = useMemo(() => new LiveBuffer(CAPACITY), []);
  const [version, setVersion] = useState(0);
  const [filter, setFilterState] = useState<LiveFilter>(EMPTY_FILTER);
  const [paused, setPaused] = useState(false);
  const [pausedCount, setPausedCount] = useState(0);
  const [follow, setFollow] = useState(true);
  const [rate, setRate] = useState(0);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [selected, setSelected] = useState<KeptEntry | undefined>();
  const [history, setHistory] = useState<{ loading: boolean; done: boolean; error?: string }>({
    loading: false,
    done: false,
  });
  const [prepended, setPrepended] = useState(0);
  const filterInput = useRef<HTMLInputElement>(null);

  // mutable state the stream handler reads without re-subscribing
  const state = useRef({
    incoming: [] as KeptEntry[],
    held: [] as KeptEntry[],
    heldBytes: 0,
    paused: false,
    frame: 0,
    received: 0,
    historyCursor: undefined as string | undefined,
    loadingHistory: false,
  });

  const flush = useCallback(() => {
    const s = state.current;
    s.frame = 0;
    if (s.incoming.length === 0) {
      return;
    }
    const batch = s.incoming;
    s.incoming = [];
    if (s.paused) {
      s.held.push(...batch);
      for (const entry of batch) {
        s.heldBytes += entry.bytes;
      }
      let drop = 0;
      while (drop < s.held.length && (s.held.length - drop > PAUSED_CAPACITY || s.heldBytes > PAUSED_MAX_BYTES)) {
        s.heldBytes -= s.held[drop]!.bytes;
        drop++;
      }
      s.held.splice(0, drop);
      setPausedCount(s.held.length);
      return;
    }
    if (buffer.append(batch) > 0) {
      setPrepended(0);
      setVersion((v) => v + 1);
    }
  }, [buffer]);

  // the stream: one EventSource on every channel; the browser resends Last-Event-ID on reconnect
  useEffect(() => {
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    // the browser resends the last event id when it reconnects by itself; after it gave up, a new
    // EventSource starts from the same cursor explicitly
    let cursor = '';
    const connect = (): void => {
      source = new EventSource(`/api/live${query({ from: cursor || undefined })}`);
      // `ready` carries the stream's starting cursor: from then on nothing published is missed
      source.addEventListener('ready', (event: MessageEvent<string>) => {
        cursor = event.lastEventId || cursor;
        setConnection('open');
      });
      source.addEventListener('entries', (event: MessageEvent<string>) => {
        const s = state.current;
        cursor = event.lastEventId || cursor;
        const entries = JSON.parse(event.data) as LiveEntry[];
        s.received += entries.length;
        for (const entry of entries) {
          // a large entry is kept cut from the start: the full one is loaded when it is opened
          s.incoming.push(keep(entry));
        }
        // one render per animation frame, however many batches arrived in it
        if (!s.frame) {
          s.frame = requestAnimationFrame(flush);
        }
      });
      source.onerror = () => {
        setConnection('reconnecting');
        if (!source || source.readyState !== EventSource.CLOSED) {
          return;
        }
        // the browser gave up (an answer that is not a stream): a lost session goes to the login
        // page (api() does that on 401); anything else is retried
        source.close();
        const again = (): void => {
          if (!closed) {
            retry = setTimeout(connect, 2000);
          }
        };
        api('/api/session').then(again, (error: unknown) => {
          if (!(error instanceof ApiError && error.status === 401)) {
            again();
          }
        });
      };
    };
    connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
      cancelAnimationFrame(state.current.frame);
    };
  }, [flush]);

  useEffect(() => {
    let last = state.current.received;
    const timer = setInterval(() => {
      const now = state.current.received;
      setRate(now - last);
      last = now;
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  const togglePause = useCallback(() => {
    const s = state.current;
    s.paused = !s.paused;
    setPaused(s.paused);
    if (!s.paused) {
      const held = s.held;
      s.held = [];
      s.heldBytes = 0;
      setPausedCount(0);
      buffer.append(held);
      setVersion((v) => v + 1);
    }
  }, [buffer]);

  const clear = useCallback(() => {
    buffer.clear();
    state.current.held = [];
    state.current.heldBytes = 0;
    state.current.historyCursor = undefined;
    setPausedCount(0);
    setSelected(undefined);
    setHistory({ loading: false, done: false });
    setVersion((v) => v + 1);
  }, [buffer]);

  const setFilter = (patch: Partial<LiveFilter>): void => {
    const next = { ...filter, ...patch };
    setFilterState(next);
    buffer.setFilter(next);
    setVersion((v) => v + 1);
  };

  const loadOlder = useCallback(async () => {
    const s = state.current;
    if (s.loadingHistory || history.done) {
      return;
    }
    s.loadingHistory = true;
    setHistory({ loading: true, done: false });
    try {
      // the first page: every channel, strictly below the oldest line, archived or not yet (named by
      // its envelope id and ts; beforeChannel names its channel without filtering on it); then the
      // archive's own cursor
      const oldest = buffer.oldest();
      const params = s.historyCursor
        ? { before: s.historyCursor, limit: HISTORY_PAGE }
        : oldest
          ? {
              beforeId: oldest.envelope.id,
              beforeTs: oldest.envelope.ts,
              beforeChannel: oldest.channel,
              limit: HISTORY_PAGE,
            }
          : { to: new Date().toISOString(), limit: HISTORY_PAGE };
      const page = await api<SearchPage>(`/api/archive/search${query(params)}`);
      s.historyCursor = page.next ?? undefined;
      const older = page.records.map(entryOfRecord).reverse();
      const visibleBefore = buffer.visible;
      buffer.prepend(older);
      setFollow(false);
      setPrepended(buffer.visible - visibleBefore);
      setVersion((v) => v + 1);
      setHistory({ loading: false, done: !page.next });
    } catch (error) {
      setHistory({ loading: false, done: false, error: errorMessage(error) });
    } finally {
      s.loadingHistory = false;
    }
  }, [buffer, history]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const target = event.target as HTMLElement | null;
      if (
        event.ctrlKey ||
        event.metaKey ||
        event.altKey ||
        // typing in a field, or pressing a control's own key; a line of the list (a button, to
        // be clickable) does not count: the shortcuts work right after clicking one
        (target &&
          (target.isContentEditable ||
            /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) ||
            (target.tagName === 'BUTTON' && !target.classList.contains('live-row'))))
      ) {
        if (event.key === 'Escape' && target instanceof HTMLInputElement) {
          target.blur();
        }
        return;
      }
      if (event.key === ' ') {
        event.preventDefault();
        togglePause();
      } else if (event.key === 'c') {
        clear();
      } else if (event.key === '/') {
        event.preventDefault();
        filterInput.current?.focus();
      } else if (event.key === 'Escape') {
        setSelected(undefined);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [togglePause, clear]);

  const onScrolled = (atEnd: boolean, atTop: boolean): void => {
    setPrepended(0);
    if (atEnd !== follow) {
      setFollow(atEnd);
    }
    if (atTop) {
      void loadOlder();
    }
  };

  const renderRow = (index: number) => {
    const entry = buffer.row(index);
    if (!entry) {
      return null;
    }
    const { envelope } = entry;
    const level = envelope.level ?? 'none';
    return (
      <button
        type="button"
        data-row={entry.key}
        class={`live-row${selected && selected.channel === entry.channel && selected.envelope.id === envelope.id ? ' selected' : ''}`}
        onClick={() => setSelected(entry)}
      >
        <span class="c-time">{timeOf(envelope.ts)}</span>
        <span class={`c-level lvl lvl-${level}`}>{envelope.level ?? '·'}</span>
        <span class="c-channel">{entry.channel}</span>
        <span class="c-service">{envelope.source.service}</span>
        <span class="c-type">{envelope.type}</span>
        <span class="c-message">{envelope.message ?? (envelope.data ? JSON.stringify(envelope.data) : '')}</span>
      </button>
    );
  };

  const services = [...buffer.services].sort();
  return (
    <section class="page live-page">
      <div class="toolbar">
        <input
          ref={filterInput}
          class="grow"
          type="search"
          placeholder="Filter text  ( / )"
          aria-label="Filter text"
          value={filter.text}
          onInput={(e) => setFilter({ text: e.currentTarget.value })}
        />
        <select
          aria-label="Service"
          value={filter.service}
          onChange={(e) => setFilter({ service: e.currentTarget.value })}
        >
          <option value="">All services</option>
          {services.map((service) => (
            <option key={service} value={service}>
              {service}
            </option>
          ))}
        </select>
        <select aria-label="Level" value={filter.level} onChange={(e) => setFilter({ level: e.currentTarget.value })}>
          <option value="">All levels</option>
          {LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
        <input
          type="search"
          placeholder="Type"
          aria-label="Type"
          class="narrow"
          value={filter.type}
          onInput={(e) => setFilter({ type: e.currentTarget.value })}
        />
        <button type="button" class={paused ? 'primary' : ''} onClick={togglePause} data-action="pause">
          {paused ? `Resume${pausedCount ? ` (${pausedCount.toLocaleString('en-US')} new)` : ''}` : 'Pause'}
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
      </div>
      <div class="live-meta">
        <span class={`conn conn-${connection}`} data-connection={connection}>
          {connection === 'open' ? 'connected' : connection}
        </span>
        <span data-rate>{rate.toLocaleString('en-US')} msg/s</span>
        <span data-count>
          {buffer.visible !== buffer.size
            ? `${buffer.visible.toLocaleString('en-US')} of ${plural(buffer.size, 'line')}`
            : plural(buffer.size, 'line')}
        </span>
        {paused && <span class="badge warn">paused</span>}
        {history.done ? (
          <span class="muted">start of the archive</span>
        ) : (
          <button
            type="button"
            class="link"
            data-action="older"
            disabled={history.loading}
            onClick={() => void loadOlder()}
          >
            {history.loading ? 'loading older lines…' : 'load older from the archive'}
          </button>
        )}
        {history.error && <span class="error-text">history: {history.error}</span>}
        <span class="hint">
          <kbd>space</kbd> pause · <kbd>c</kbd> clear · <kbd>/</kbd> filter · scroll up for history
        </span>
      </div>
      <div class={`live-body${selected ? ' with-panel' : ''}`}>
        <div class="live-list">
          <div class="live-head" aria-hidden="true">
            <span class="c-time">time</span>
            <span class="c-level">level</span>
            <span class="c-channel">channel</span>
            <span class="c-service">service</span>
            <span class="c-type">type</span>
            <span class="c-message">message</span>
          </div>
          {buffer.visible === 0 && (
            <div class="empty">
              {buffer.size === 0 ? 'Waiting for messages on every channel…' : 'No line matches the filter.'}
            </div>
          )}
          <VirtualList
            count={buffer.visible}
            rowHeight={ROW_HEIGHT}
            version={version}
            renderRow={renderRow}
            follow={follow}
            onScrolled={onScrolled}
            prependedRows={prepended}
            label="Live messages"
          />
        </div>
        {selected && (
          <aside class="side-panel" aria-label="Message">
            <div class="side-head">
              <strong>{selected.envelope.type}</strong>
              <button type="button" class="ghost" aria-label="Close" onClick={() => setSelected(undefined)}>
                ✕
              </button>
            </div>
            <SelectedEnvelope entry={selected} />
            <div class="side-foot">
              <a href={`/archive?record=${encodeURIComponent(`${selected.channel}/${selected.envelope.id}`)}`}>
                Its archived record →
              </a>
            </div>
          </aside>
        )}
      </div>
    </section>
  );
}

/**
 * The opened entry; a cut one (over ENTRY_CHARS_KEPT) is loaded whole from the archive, which has
 * it once the archiver wrote it (usually within a second).
 */
function SelectedEnvelope({ entry }: { entry: KeptEntry }) {
  const [full, setFull] = useState<LiveEntry | undefined>();
  const [state, setState] = useState<'loading' | 'failed' | undefined>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setFull(undefined);
    if (entry.cut === undefined) {
      setState(undefined);
      return;
    }
    const controller = new AbortController();
    setState('loading');
    api<ArchivedMessage>(
      `/api/archive/records/${encodeURIComponent(entry.channel)}/${encodeURIComponent(entry.envelope.id)}`,
      { signal: controller.signal },
    ).then(
      (record) => {
        setFull(entryOfRecord(record));
        setState(undefined);
      },
      () => {
        if (!controller.signal.aborted) {
          setState('failed');
        }
      },
    );
    return () => controller.abort();
  }, [entry, attempt]);
  const shown = full ?? entry;
  return (
    <>
      {entry.cut !== undefined && !full && (
        <p class="muted small" data-cut={entry.cut}>
          {state === 'failed' ? (
            <>
              Shown cut ({plural(entry.cut, 'character')}): the archive does not have it yet.{' '}
              <button type="button" class="ghost" onClick={() => setAttempt((n) => n + 1)}>
                Try again
              </button>
            </>
          ) : (
            `Shown cut (${plural(entry.cut, 'character')}); loading the whole record…`
          )}
        </p>
      )}
      <EnvelopeView value={{ channel: shown.channel, brokerId: shown.id, envelope: shown.envelope }} />
    </>
  );
}
