// Archive: search what was stored, newest first, page by page; counts over time; export.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorMessage, query } from '../api';
import { LEVELS, type ArchivedMessage, type CountsResponse, type SearchPage } from '../api-types';
import { EnvelopeView } from '../envelope-view';
import { dateTimeOf, fromLocalInput, plural, toLocalInput } from '../format';
import { navigate, useLocation } from '../router';
import { BarChart } from './bar-chart';

const PAGE = 100;

interface Filters {
  from: string;
  to: string;
  channel: string;
  service: string;
  level: string;
  type: string;
  text: string;
  /** A path inside `data` and the value it must have (`500`, `true`, `"500"` for the string). */
  field: string;
  value: string;
  /** A container name or id: its output (the log-collector's records). */
  container: string;
  stream: string;
}

const FILTER_KEYS = [
  'from',
  'to',
  'channel',
  'service',
  'level',
  'type',
  'text',
  'field',
  'value',
  'container',
  'stream',
] as const;

type Bucket = 'minute' | 'hour' | 'day';

function defaultFilters(search: URLSearchParams): Filters {
  return {
    from: search.get('from') ?? toLocalInput(new Date(Date.now() - 3_600_000)),
    to: search.get('to') ?? '',
    channel: search.get('channel') ?? '',
    service: search.get('service') ?? '',
    level: search.get('level') ?? '',
    type: search.get('type') ?? '',
    text: search.get('text') ?? '',
    field: search.get('field') ?? '',
    value: search.get('value') ?? '',
    container: search.get('container') ?? '',
    stream: search.get('stream') ?? '',
  };
}

/** The filters as the page's own URL, so a search can be linked to and reloaded. */
function pageUrl(filters: Filters): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    // an empty `from` is kept: it means "no lower bound", not "the last hour"
    if (filters[key] !== '' || key === 'from') {
      params.set(key, filters[key]);
    }
  }
  return `/archive?${params.toString()}`;
}

/** Minutes up to 3 hours, hours up to a week, days beyond: at most ~180 bars. */
export function bucketFor(fromIso: string | undefined, toIso: string | undefined): Bucket {
  const from = fromIso ? Date.parse(fromIso) : Date.now() - 86_400_000;
  const to = toIso ? Date.parse(toIso) : Date.now();
  const span = to - from;
  if (span <= 3 * 3_600_000) {
    return 'minute';
  }
  if (span <= 7 * 86_400_000) {
    return 'hour';
  }
  return 'day';
}

function apiFilters(filters: Filters): Record<string, string | undefined> {
  return {
    from: fromLocalInput(filters.from),
    to: fromLocalInput(filters.to),
    channel: filters.channel || undefined,
    service: filters.service || undefined,
    level: filters.level || undefined,
    type: filters.type || undefined,
    text: filters.text || undefined,
    field: filters.field || undefined,
    value: filters.field ? filters.value : undefined,
    container: filters.container || undefined,
    stream: filters.stream || undefined,
  };
}

export function ArchivePage() {
  const { search } = useLocation();
  const [draft, setDraft] = useState<Filters>(() => defaultFilters(search));
  const [applied, setApplied] = useState<Filters>(draft);
  const [records, setRecords] = useState<ArchivedMessage[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [counts, setCounts] = useState<({ bucket: Bucket } & CountsResponse) | undefined>();
  const [selected, setSelected] = useState<ArchivedMessage | undefined>();
  const recordParam = search.get('record');

  // a link to one record (from Submit): /archive?record=<channel>/<id>
  useEffect(() => {
    if (!recordParam) {
      return;
    }
    const slash = recordParam.indexOf('/');
    const channel = recordParam.slice(0, slash);
    const id = recordParam.slice(slash + 1);
    api<ArchivedMessage>(`/api/archive/records/${encodeURIComponent(channel)}/${encodeURIComponent(id)}`)
      .then(setSelected)
      .catch((caught: unknown) => setError(`Record ${recordParam}: ${errorMessage(caught)}`));
  }, [recordParam]);

  // only the newest request may change the page: an older answer arriving late is dropped
  const latest = useRef(0);
  const load = async (filters: Filters, before: string | null): Promise<void> => {
    const ticket = ++latest.current;
    const current = (): boolean => ticket === latest.current;
    setLoading(true);
    setError(undefined);
    try {
      const params = apiFilters(filters);
      const page = await api<SearchPage>(
        `/api/archive/search${query({ ...params, limit: PAGE, before: before ?? undefined })}`,
      );
      if (!current()) {
        return;
      }
      setRecords((shown) => (before ? [...shown, ...page.records] : page.records));
      setNext(page.next);
      if (!before) {
        // counts need both ends of the range
        const to = params.to ?? new Date().toISOString();
        const from = params.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
        const bucket = bucketFor(from, to);
        const result = await api<CountsResponse>(`/api/archive/counts${query({ ...params, from, to, bucket })}`);
        if (current()) {
          setCounts({ bucket, buckets: result.buckets });
        }
      }
    } catch (caught) {
      if (current()) {
        setError(errorMessage(caught));
      }
    } finally {
      if (current()) {
        setLoading(false);
      }
    }
  };

  useEffect(() => {
    void load(applied, null);
  }, [applied]);

  const submit = (event: Event): void => {
    event.preventDefault();
    setApplied({ ...draft });
    navigate(pageUrl(draft), true);
  };
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onInput: (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
      setDraft({ ...draft, [name]: e.currentTarget.value }),
  });
  const exportQuery = (format: 'ndjson' | 'csv'): string =>
    `/api/archive/export${query({ ...apiFilters(applied), format })}`;

  return (
    <section class="page archive-page">
      <form class="filters card" onSubmit={submit} role="search">
        <label class="field">
          <span>From</span>
          <input type="datetime-local" {...field('from')} />
        </label>
        <label class="field">
          <span>To</span>
          <input type="datetime-local" {...field('to')} />
        </label>
        <label class="field">
          <span>Channel</span>
          <input type="text" placeholder="any" {...field('channel')} />
        </label>
        <label class="field">
          <span>Service</span>
          <input type="text" placeholder="any" {...field('service')} />
        </label>
        <label class="field">
          <span>Level</span>
          <select {...field('level')}>
            <option value="">any</option>
            {LEVELS.map((level) => (
              <option key={level} value={level}>
                {level}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Type</span>
          <input type="text" placeholder="any" {...field('type')} />
        </label>
        <label class="field">
          <span>Container</span>
          <input type="text" name="container" placeholder="name or id" {...field('container')} />
        </label>
        <label class="field">
          <span>Stream</span>
          <select name="stream" {...field('stream')}>
            <option value="">any</option>
            <option value="stdout">stdout</option>
            <option value="stderr">stderr</option>
          </select>
        </label>
        <label class="field">
          <span>Field (in data)</span>
          <input type="text" name="field" placeholder="e.g. status or http.method" {...field('field')} />
        </label>
        <label class="field">
          <span>equals</span>
          <input
            type="text"
            name="value"
            placeholder='500, true, "500" (text)'
            title='Typed as JSON: 500 is a number, true a boolean, "500" the text; other words are text'
            {...field('value')}
          />
        </label>
        <label class="field grow">
          <span>Full text</span>
          <input type="search" name="text" placeholder="words in the message" {...field('text')} />
        </label>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Search
          </button>
          <a class="button" href={exportQuery('ndjson')} download>
            NDJSON
          </a>
          <a class="button" href={exportQuery('csv')} download>
            CSV
          </a>
        </div>
      </form>
      {counts && <BarChart bucket={counts.bucket} buckets={counts.buckets} />}
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      <div class={`split${selected ? ' with-panel' : ''}`}>
        <div class="table-wrap">
          <table class="table records" aria-label="Archived records">
            <thead>
              <tr>
                <th>time</th>
                <th>level</th>
                <th>channel</th>
                <th>service</th>
                <th>type</th>
                <th>message</th>
              </tr>
            </thead>
            <tbody>
              {records.map((record) => (
                <tr
                  key={`${record.channel}/${record.id}`}
                  data-record={`${record.channel}/${record.id}`}
                  class={selected && selected.id === record.id && selected.channel === record.channel ? 'selected' : ''}
                  onClick={() => setSelected(record)}
                  tabIndex={0}
                  onKeyDown={(e) => e.key === 'Enter' && setSelected(record)}
                >
                  <td class="nowrap mono" data-label="time">
                    {dateTimeOf(record.ts)}
                  </td>
                  <td data-label="level">
                    <span class={`lvl lvl-${record.level ?? 'none'}`}>{record.level ?? '·'}</span>
                  </td>
                  <td data-label="channel" class="nowrap">
                    {record.channel}
                  </td>
                  <td data-label="service" class="nowrap">
                    {record.service}
                  </td>
                  <td data-label="type" class="mono nowrap">
                    {record.type}
                  </td>
                  <td class="message" data-label="message">
                    {record.message ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!loading && records.length === 0 && !error && <div class="empty">No record matches.</div>}
          <div class="more">
            {loading ? (
              <span class="muted">Loading…</span>
            ) : next ? (
              <button type="button" onClick={() => void load(applied, next)}>
                Load older
              </button>
            ) : records.length > 0 ? (
              <span class="muted">End of the results ({plural(records.length, 'record')}).</span>
            ) : null}
          </div>
        </div>
        {selected && (
          <aside class="side-panel" aria-label="Record">
            <div class="side-head">
              <strong>{selected.type}</strong>
              <button
                type="button"
                class="ghost"
                aria-label="Close"
                onClick={() => {
                  setSelected(undefined);
                  if (recordParam) {
                    navigate('/archive', true);
                  }
                }}
              >
                ✕
              </button>
            </div>
            <EnvelopeView value={withoutCursor(selected)} />
          </aside>
        )}
      </div>
    </section>
  );
}

/** The record as stored; its paging cursor means nothing to a reader. */
function withoutCursor(record: ArchivedMessage): Omit<ArchivedMessage, 'cursor'> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'cursor')) as Omit<
    ArchivedMessage,
    'cursor'
  >;
}
