import { LEVELS, NAME_PATTERN, NAME_RULE } from '@mupets/broker';
import { z } from 'zod';
import type { OrientConnection } from './connection';
import { ArchiveQueryError } from './errors';
import { CONTAINER_ID, decodeCursor, fromRow, minuteOf, sortKey, STREAMS, uidOf, type ArchivedMessage } from './record';
import { COUNT_CLASS, MESSAGE_CLASS } from './schema';

const MAX_LIMIT = 1000;
const MAX_BUCKETS = 10_080; // a week of minutes
const MAX_TEXT = 200;
const MAX_VALUE = 1024;

/**
 * A path inside `data` for the field filter (`status`, `http.request.method`). OrientDB cannot
 * take a field name as a parameter, so the path is written into the SQL: only identifiers pass.
 */
export const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}$/;
export const FIELD_PATH_RULE = '1-8 names joined by dots, each a letter or _ then up to 63 letters, digits or _';

/** The stored types a filter value matches: a number never matches the string "500", nor the reverse. */
const TYPES_OF = {
  number: ['BYTE', 'SHORT', 'INTEGER', 'LONG', 'FLOAT', 'DOUBLE', 'DECIMAL'],
  string: ['STRING'],
  boolean: ['BOOLEAN'],
} as const;

const NAME = z.string().regex(NAME_PATTERN, `must be ${NAME_RULE}`);
const time = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((value) => new Date(value));

const filterShape = {
  from: time.optional(),
  to: time.optional(),
  channel: NAME.optional(),
  service: z.string().min(1).max(128).optional(),
  level: z.enum(LEVELS).optional(),
  type: z.string().min(1).max(128).optional(),
  text: z.string().max(MAX_TEXT).optional(),
  /** With `value`: records whose `data` has this value at this path. */
  field: z.string().regex(FIELD_PATH, FIELD_PATH_RULE).optional(),
  /** Compared with its type: 500 matches the number 500 only, "500" the string only. */
  value: z.union([z.string().max(MAX_VALUE), z.number(), z.boolean()]).optional(),
  /** A container's output: its name (`source.instance`) or its id (full, or 12+ hex characters). */
  container: z.string().min(1).max(128).optional(),
  /** `data.docker.stream` of container output. */
  stream: z.enum(STREAMS).optional(),
};

const searchSchema = z.strictObject({
  ...filterShape,
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
  /** A cursor from a previous page: records strictly older than it. */
  before: z.string().max(1024).optional(),
  /**
   * Start strictly below a message, archived or not yet (the live view's oldest line): its envelope
   * id, with `beforeTs` and `beforeChannel` (or `channel`). Broker ids are not used: their meaning
   * is the backend's (a Redis id starts with milliseconds, a Kafka id with a partition).
   */
  beforeId: z.string().min(1).max(128).optional(),
  /** The envelope `ts` of the `beforeId` message. */
  beforeTs: time.optional(),
  /**
   * The channel of `beforeId`, when the search itself spans every channel (a live view of several
   * channels continuing into the archive). Default: `channel`. Does not filter.
   */
  beforeChannel: NAME.optional(),
});

const countSchema = z.strictObject({
  ...filterShape,
  from: time,
  to: time,
  bucket: z.enum(['minute', 'hour', 'day']).default('minute'),
});

export type SearchQuery = z.input<typeof searchSchema>;
export type CountQuery = z.input<typeof countSchema>;

export interface SearchPage {
  /** Newest first. */
  readonly records: ArchivedMessage[];
  /** Pass as `before` for the next (older) page; null when this was the last. */
  readonly next: string | null;
}

export interface Bucket {
  /** Start of the bucket, ISO-8601 UTC. */
  readonly start: string;
  readonly count: number;
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ArchiveQueryError(
      parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join('.') || '(query)',
        rule: issue.code,
        message: issue.message,
      })),
    );
  }
  const data = parsed.data as { field?: string; value?: unknown };
  if ((data.field === undefined) !== (data.value === undefined)) {
    const missing = data.field === undefined ? 'field' : 'value';
    throw new ArchiveQueryError([
      { field: missing, rule: 'required', message: `required with ${missing === 'field' ? 'value' : 'field'}` },
    ]);
  }
  return parsed.data;
}

type Filters = z.output<z.ZodObject<typeof filterShape>>;

/**
 * WHERE clauses for the filters: fixed text with placeholders only; the values go in `params`.
 * Returns the ORDER BY that lets OrientDB walk an index backwards instead of sorting.
 */
function whereClauses(filters: Filters, params: Record<string, unknown>): { where: string[]; orderBy: string } {
  const where: string[] = [];
  const add = (clause: string, name: string, value: unknown): void => {
    where.push(clause);
    params[name] = value;
  };
  if (filters.from) add('tk >= :from', 'from', filters.from.toISOString());
  if (filters.to) add('tk < :to', 'to', filters.to.toISOString());
  if (filters.channel) add('channel = :channel', 'channel', filters.channel);
  if (filters.service) add('service = :service', 'service', filters.service);
  if (filters.level) add('level = :level', 'level', filters.level);
  if (filters.type) add('type = :type', 'type', filters.type);
  const text = filters.text === undefined ? undefined : luceneQuery(filters.text);
  if (text) add(`SEARCH_INDEX('${MESSAGE_CLASS}.message', :text) = true`, 'text', text);
  if (filters.field !== undefined && filters.value !== undefined) {
    const path = fieldPath(filters.field);
    add(`${path} = :fieldValue AND ${path}.type() IN :fieldTypes`, 'fieldValue', filters.value);
    params.fieldTypes = TYPES_OF[typeof filters.value as keyof typeof TYPES_OF];
  }
  const byName = filters.container !== undefined && !CONTAINER_ID.test(filters.container);
  if (filters.container !== undefined && byName) {
    add('instance = :container', 'container', filters.container);
  } else if (filters.container !== undefined) {
    // 12+ hex characters: a container id (prefix), or a container that happens to be named so
    add(
      '(instance = :container OR (cid12 = :cid12 AND cid.left(:cidLength) = :container))',
      'container',
      filters.container,
    );
    params.cid12 = filters.container.slice(0, 12);
    params.cidLength = filters.container.length;
  }
  if (filters.stream) add('stream = :stream', 'stream', filters.stream);
  // with the fields an index starts with fixed, ordering by the whole index key is ordering by tk
  const orderBy = byName
    ? 'instance DESC, tk DESC'
    : filters.service && filters.level
      ? 'service DESC, level DESC, tk DESC'
      : filters.service
        ? 'service DESC, tk DESC'
        : filters.level
          ? 'level DESC, tk DESC'
          : 'tk DESC';
  return { where, orderBy };
}

/** `data.<path>` for SQL, each name quoted; the path is checked again here, as it is not a parameter. */
function fieldPath(path: string): string {
  if (!FIELD_PATH.test(path)) {
    throw new ArchiveQueryError([{ field: 'field', rule: 'invalid_format', message: FIELD_PATH_RULE }]);
  }
  return ['data', ...path.split('.').map((name) => `\`${name}\``)].join('.');
}

/**
 * The user's words as a Lucene query that matches records containing all of them: each word is
 * quoted, so Lucene operators and syntax in the input are plain text.
 */
export function luceneQuery(text: string): string | undefined {
  const words = text
    .split(/\s+/)
    .map((word) => word.replace(/["\\]/g, ''))
    .filter((word) => word.length > 0)
    .slice(0, 16);
  return words.length === 0 ? undefined : words.map((word) => `+"${word}"`).join(' ');
}

export async function search(conn: OrientConnection, input: unknown): Promise<SearchPage> {
  const query = parse(searchSchema, input ?? {});
  const params: Record<string, unknown> = {};
  const { where, orderBy } = whereClauses(query, params);
  const before = await resolveBefore(conn, query);
  if (before) {
    where.push('tk < :cursor');
    params.cursor = before;
  }
  params.limit = query.limit + 1;
  const sql =
    `SELECT FROM ${MESSAGE_CLASS}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${orderBy} LIMIT :limit`;
  const rows = await conn.query<Record<string, unknown>>(sql, params);
  const records = rows.slice(0, query.limit).map(fromRow);
  const last = records[records.length - 1];
  return { records, next: rows.length > query.limit && last ? last.cursor : null };
}

async function resolveBefore(
  conn: OrientConnection,
  query: z.output<typeof searchSchema>,
): Promise<string | undefined> {
  if (query.before !== undefined) {
    const tk = decodeCursor(query.before);
    if (!tk) {
      throw new ArchiveQueryError([{ field: 'before', rule: 'cursor', message: 'not a cursor from this archive' }]);
    }
    return tk;
  }
  if (query.beforeId === undefined) {
    return undefined;
  }
  const channel = query.beforeChannel ?? query.channel;
  const issues = [];
  if (!channel) {
    issues.push({ field: 'channel', rule: 'required', message: 'required with beforeId, or beforeChannel' });
  }
  if (!query.beforeTs) {
    issues.push({ field: 'beforeTs', rule: 'required', message: 'required with beforeId: the message’s ts' });
  }
  if (!channel || !query.beforeTs) {
    throw new ArchiveQueryError(issues);
  }
  const uid = uidOf(channel, query.beforeId);
  // archived: where the archive put it (a ts from the future was re-anchored); not yet: where it will
  const rows = await conn.query<{ tk: string }>(`SELECT tk FROM ${MESSAGE_CLASS} WHERE uid = :uid`, { uid });
  return rows[0]?.tk ?? sortKey(query.beforeTs, uid);
}

const BUCKET_CHARS = { minute: 16, hour: 13, day: 10 } as const;
const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/**
 * Counts per time bucket over [from, to), every bucket listed (zeros included). Buckets are whole
 * minutes, hours or days (UTC): a range that starts or ends inside one counts all of it. Filtered
 * on channel, service, level or type only, this reads the per-minute counts the writer keeps;
 * with text, field, container or stream it counts the matching records.
 */
export async function counts(conn: OrientConnection, input: unknown): Promise<Bucket[]> {
  const query = parse(countSchema, input);
  const step = BUCKET_MS[query.bucket];
  const first = Math.floor(query.from.getTime() / step) * step;
  const end = Math.ceil(query.to.getTime() / step) * step;
  const issues = [];
  if (query.to.getTime() <= query.from.getTime()) {
    issues.push({ field: 'to', rule: 'after_from', message: 'must be after from' });
  } else if ((end - first) / step > MAX_BUCKETS) {
    issues.push({ field: 'bucket', rule: 'max_buckets', message: `range holds more than ${MAX_BUCKETS} buckets` });
  }
  if (issues.length > 0) {
    throw new ArchiveQueryError(issues);
  }
  const len = BUCKET_CHARS[query.bucket];
  // the per-minute counts know channel, service, level and type; any other filter counts matches
  const matchesOnly =
    (query.text !== undefined && luceneQuery(query.text) !== undefined) ||
    query.field !== undefined ||
    query.container !== undefined ||
    query.stream !== undefined;
  // the per-channel totals answer unless service, level or type narrows the count
  const totals = query.service === undefined && query.level === undefined && query.type === undefined;
  const overflowed = matchesOnly || totals ? [] : await overflowedRanges(conn, first, end, query.channel);
  let rows: Array<{ b: string; c: number }>;
  if (matchesOnly || overflowed.length > MAX_OVERFLOWED_RANGES) {
    rows = await countMatches(conn, query, first, end, len);
  } else {
    const params: Record<string, unknown> = { len, total: totals };
    const where = ['total = :total', 'bucket >= :fromBucket', 'bucket <= :toBucket'];
    params.fromBucket = minuteOf(new Date(first));
    params.toBucket = minuteOf(new Date(end - 1));
    for (const field of ['channel', 'service', 'level', 'type'] as const) {
      if (query[field] !== undefined) {
        where.push(`${field} = :${field}`);
        params[field] = query[field];
      }
    }
    // minutes with combinations past the writers' bound (count-rows.ts): their records are counted
    overflowed.forEach(([from, to], i) => {
      where.push(`NOT (bucket >= :of${i} AND bucket <= :ot${i})`);
      params[`of${i}`] = minuteOf(new Date(from));
      params[`ot${i}`] = minuteOf(new Date(to - 1));
    });
    rows = await conn.query(
      `SELECT bucket.left(:len) AS b, sum(n) AS c FROM ${COUNT_CLASS} WHERE ${where.join(' AND ')} GROUP BY b`,
      params,
    );
    for (const [from, to] of overflowed) {
      rows.push(...(await countMatches(conn, query, from, to, len)));
    }
  }
  const byStart = new Map<string, number>();
  for (const row of rows) {
    byStart.set(row.b, (byStart.get(row.b) ?? 0) + Number(row.c));
  }
  const buckets: Bucket[] = [];
  for (let start = first; start < end; start += step) {
    const iso = new Date(start).toISOString();
    buckets.push({ start: iso, count: byStart.get(iso.slice(0, BUCKET_CHARS[query.bucket])) ?? 0 });
  }
  return buckets;
}

/** Counts the records matching the query's filters in [from, to), per bucket. */
function countMatches(
  conn: OrientConnection,
  query: z.output<typeof countSchema>,
  from: number,
  to: number,
  len: number,
): Promise<Array<{ b: string; c: number }>> {
  const params: Record<string, unknown> = { len };
  const { where } = whereClauses({ ...query, from: new Date(from), to: new Date(to) }, params);
  return conn.query(
    `SELECT tk.left(:len) AS b, count(*) AS c FROM ${MESSAGE_CLASS} WHERE ${where.join(' AND ')} GROUP BY b`,
    params,
  );
}

/** Past this many separate stretches of overflowed minutes, a filtered count counts records throughout. */
const MAX_OVERFLOWED_RANGES = 16;

/** The stretches of consecutive minutes in [from, to) that hold an overflow count row, as [start, end) ms. */
async function overflowedRanges(
  conn: OrientConnection,
  from: number,
  to: number,
  channel: string | undefined,
): Promise<Array<[number, number]>> {
  const params: Record<string, unknown> = {
    fromBucket: minuteOf(new Date(from)),
    toBucket: minuteOf(new Date(to - 1)),
  };
  const where = ['overflow = true', 'bucket >= :fromBucket', 'bucket <= :toBucket'];
  if (channel !== undefined) {
    where.push('channel = :channel');
    params.channel = channel;
  }
  const rows = await conn.query<{ bucket: string }>(
    `SELECT DISTINCT(bucket) AS bucket FROM ${COUNT_CLASS} WHERE ${where.join(' AND ')}`,
    params,
  );
  const starts = rows.map((row) => Date.parse(`${row.bucket}:00.000Z`)).sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const start of starts) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start) {
      last[1] = start + 60_000;
    } else {
      ranges.push([start, start + 60_000]);
    }
  }
  return ranges;
}

/** One record by channel and envelope id, or null. */
export async function findById(conn: OrientConnection, channel: string, id: string): Promise<ArchivedMessage | null> {
  const rows = await conn.query<Record<string, unknown>>(`SELECT FROM ${MESSAGE_CLASS} WHERE uid = :uid`, {
    uid: `${channel}/${id}`,
  });
  return rows[0] ? fromRow(rows[0]) : null;
}
