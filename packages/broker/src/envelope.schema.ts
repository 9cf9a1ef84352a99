import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EnvelopeValidationError, type EnvelopeIssue, InvalidNameError } from './errors';

/** Default limit on one serialized envelope: 64 KiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Deepest nesting of objects and arrays in `data` (the object itself is level 1). JSON nested
 * thousands of levels parses, but then every `JSON.stringify` of it throws: such an entry from a
 * foreign producer would be a poison that no consumer, dead-letter or live view can handle.
 */
export const MAX_DATA_DEPTH = 64;

/** Objects the allocation-free first pass of `nestsDeeperThan` walks before it leaves the answer to the exact one. */
const QUICK_WALK_NODES = 512;
let quickBudget = 0;

/**
 * The common case, a small tree, walked recursively (at most `max` deep, so no stack to overflow)
 * without allocating: 1 when every path ends within `max`; 0 when one goes deeper (a cycle does
 * too); -1 after QUICK_WALK_NODES objects. Only 1 is final.
 */
function quickDepth(value: unknown, depth: number, max: number): number {
  if (value === null || typeof value !== 'object') {
    return 1;
  }
  if (depth > max) {
    return 0;
  }
  if (--quickBudget < 0) {
    return -1;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const verdict = quickDepth(item, depth + 1, max);
      if (verdict !== 1) {
        return verdict;
      }
    }
    return 1;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key)) {
      const verdict = quickDepth((value as Record<string, unknown>)[key], depth + 1, max);
      if (verdict !== 1) {
        return verdict;
      }
    }
  }
  return 1;
}

/**
 * Whether `root` nests objects or arrays deeper than `max` levels. A small tree is settled by a
 * recursive pass that allocates nothing (this runs for every published envelope); anything else by
 * an iterative walk (no stack to overflow) that visits each object once: parsed JSON is a tree, and
 * a cycle in a caller's object is left to the serializer, which names it (rule `json`).
 */
export function nestsDeeperThan(root: unknown, max: number): boolean {
  quickBudget = QUICK_WALK_NODES;
  if (quickDepth(root, 1, max) === 1) {
    return false;
  }
  const pending: Array<[value: object, depth: number]> = [];
  const seen = new Set<object>();
  const visit = (value: unknown, depth: number): void => {
    if (value !== null && typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      pending.push([value, depth]);
    }
  };
  visit(root, 1);
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (depth > max) {
      return true;
    }
    for (const child of Object.values(value)) {
      visit(child, depth + 1);
    }
  }
  return false;
}

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

// names are short enough that derived ones (`<channel>.dead`) still fit the envelope's 64-char rule
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,47}$/;
/** The rule of channel, group and consumer names, in words. */
export const NAME_RULE = '1-48 chars of a-z 0-9 . _ -, starting with a letter or digit';
const CHANNEL_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Channels and consumer groups share one naming rule, so they are safe inside Redis keys. */
export function assertName(kind: 'channel' | 'group' | 'consumer', name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidNameError(kind, String(name), NAME_RULE);
  }
}

// ISO-8601 in UTC ("Z" suffix), as `Date.prototype.toISOString` writes it
const isoUtc = z.iso.datetime();

const sourceSchema = z.strictObject({
  service: z.string().min(1).max(128),
  instance: z.string().min(1).max(128).optional(),
  host: z.string().min(1).max(255).optional(),
});

/** The envelope v1, as stored on every channel. */
export const envelopeSchema = z.strictObject({
  id: z.string().min(1).max(128),
  channel: z.string().regex(CHANNEL_RE, '1-64 chars of a-z 0-9 . _ -, starting with a letter or digit'),
  type: z.string().min(1).max(128),
  ts: isoUtc,
  source: sourceSchema,
  level: z.enum(LEVELS).optional(),
  message: z.string().optional(),
  data: z
    .record(z.string(), z.unknown())
    .superRefine((data, context) => {
      if (nestsDeeperThan(data, MAX_DATA_DEPTH)) {
        context.addIssue({
          code: 'custom',
          message: `nests objects and arrays deeper than ${MAX_DATA_DEPTH} levels`,
          params: { rule: 'max_depth' },
        });
      }
    })
    .optional(),
  v: z.literal(1),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeSource = z.infer<typeof sourceSchema>;
export type Level = (typeof LEVELS)[number];

/**
 * What a publisher hands in: `type` and `source` are required; `id`, `ts`, `channel` and `v` are
 * filled in. Any other top-level field is kept by moving it into `data`.
 */
export interface MessageInput {
  type: string;
  source: EnvelopeSource;
  id?: string;
  ts?: string;
  level?: Level;
  message?: string;
  data?: Record<string, unknown>;
  [unknownField: string]: unknown;
}

const KNOWN_FIELDS = new Set(Object.keys(envelopeSchema.shape));

function issuesFromZod(error: z.ZodError, candidate: unknown): EnvelopeIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    rule: ruleOf(issue, candidate),
    message: issue.message,
  }));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') {
      return undefined;
    }
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function ruleOf(issue: z.core.$ZodIssue, candidate: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(candidate, issue.path) === undefined ? 'required' : 'type';
    case 'too_small':
      return 'min';
    case 'too_big':
      return 'max';
    case 'invalid_format':
      return 'format';
    case 'invalid_value':
      return 'enum';
    case 'unrecognized_keys':
      return 'unknown_key';
    case 'custom':
      return typeof issue.params?.rule === 'string' ? issue.params.rule : issue.code;
    default:
      return issue.code;
  }
}

const INPUT_FIELDS = new Set(['id', 'ts', 'type', 'source', 'level', 'message', 'data']);
const SOURCE_FIELDS = new Set(['service', 'instance', 'host']);
const LEVEL_SET = new Set<string>(LEVELS);

let lastMs = -1;
let lastIso = '';
/** `new Date().toISOString()`, computed once per millisecond: publishing is hot. */
function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

let lastValidTs: string | undefined;
/** The schema's own `ts` rule; a batch's records often share a timestamp, so the last one is kept. */
function isIsoUtc(value: unknown): value is string {
  if (value === lastValidTs) {
    return true;
  }
  if (typeof value !== 'string' || !isoUtc.safeParse(value).success) {
    return false;
  }
  lastValidTs = value;
  return true;
}

function isBoundedString(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

function isSource(value: unknown): value is EnvelopeSource {
  if (!isPlainObject(value) || !isBoundedString(value.service, 128)) {
    return false;
  }
  for (const key in value) {
    if (!SOURCE_FIELDS.has(key)) {
      return false;
    }
  }
  return (
    (value.instance === undefined || isBoundedString(value.instance, 128)) &&
    (value.host === undefined || isBoundedString(value.host, 255))
  );
}

/**
 * The common case without the schema library: a plain input with only known fields, each
 * obviously valid. It is deliberately narrower than `envelopeSchema` (a unit test checks that
 * whatever it accepts the schema accepts, identically); anything else, valid or not, takes the
 * schema path, which also writes the detailed errors. Validation is most of a publish's cost.
 */
export function fastEnvelope(channel: string, raw: Record<string, unknown>): Envelope | undefined {
  for (const key in raw) {
    if (!INPUT_FIELDS.has(key)) {
      return undefined;
    }
  }
  const { id, ts, type, source, level, message, data } = raw;
  if (
    !isBoundedString(type, 128) ||
    !isSource(source) ||
    (id !== undefined && !isBoundedString(id, 128)) ||
    (ts !== undefined && !isIsoUtc(ts)) ||
    (level !== undefined && !(typeof level === 'string' && LEVEL_SET.has(level))) ||
    (message !== undefined && typeof message !== 'string') ||
    (data !== undefined && (!isPlainObject(data) || nestsDeeperThan(data, MAX_DATA_DEPTH))) ||
    !CHANNEL_RE.test(channel)
  ) {
    return undefined;
  }
  const envelope: Envelope = { id: id ?? randomUUID(), channel, type, ts: ts ?? nowIso(), source, v: 1 };
  if (level !== undefined) {
    envelope.level = level as Level;
  }
  if (message !== undefined) {
    envelope.message = message;
  }
  if (data !== undefined) {
    envelope.data = data;
  }
  return envelope;
}

/**
 * Turns caller input into a complete, validated envelope for `channel`.
 * Throws EnvelopeValidationError naming every bad field.
 */
export function buildEnvelope(channel: string, input: unknown): Envelope {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EnvelopeValidationError([{ path: '', rule: 'type', message: 'expected an object' }]);
  }
  const raw = input as Record<string, unknown>;
  return fastEnvelope(channel, raw) ?? schemaEnvelope(channel, raw);
}

/** The general path: moves unknown fields into data, then validates with the schema. */
export function schemaEnvelope(channel: string, raw: Record<string, unknown>): Envelope {
  const candidate: Record<string, unknown> = {
    ...raw,
    id: raw.id ?? randomUUID(),
    ts: raw.ts ?? nowIso(),
    channel,
    v: 1,
  };
  const extra = Object.keys(raw).filter((key) => !KNOWN_FIELDS.has(key));
  if (extra.length > 0) {
    const data = raw.data;
    if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data))) {
      // leave it: the schema reports data's own type error below
    } else {
      const merged: Record<string, unknown> = { ...(data as Record<string, unknown> | undefined) };
      const clashes: EnvelopeIssue[] = [];
      for (const key of extra) {
        if (key in merged) {
          clashes.push({
            path: key,
            rule: 'unknown_key',
            message: `unknown top-level field is kept in data, but data.${key} already exists`,
          });
        } else {
          merged[key] = raw[key];
        }
        delete candidate[key];
      }
      if (clashes.length > 0) {
        throw new EnvelopeValidationError(clashes);
      }
      candidate.data = merged;
    }
  }
  return schemaValidate(candidate);
}

/** Validates a complete envelope (e.g. one read back from a stream). */
export function validateEnvelope(candidate: unknown): Envelope {
  return fastStoredEnvelope(candidate) ?? schemaValidate(candidate);
}

/**
 * A complete envelope as stored (read back by every consumer) without the schema library: the
 * publish fast path's checks plus `channel` and `v`. As narrow as {@link fastEnvelope} (a unit test
 * checks it builds what the schema builds); anything else takes the schema path.
 */
export function fastStoredEnvelope(candidate: unknown): Envelope | undefined {
  if (!isPlainObject(candidate) || candidate.v !== 1 || typeof candidate.channel !== 'string') {
    return undefined;
  }
  if (candidate.id === undefined || candidate.ts === undefined) {
    return undefined;
  }
  const input: Record<string, unknown> = {};
  for (const key in candidate) {
    if (key !== 'channel' && key !== 'v') {
      input[key] = candidate[key];
    }
  }
  return fastEnvelope(candidate.channel, input);
}

/** The schema's verdict on a complete envelope: the envelope, or every issue named. */
export function schemaValidate(candidate: unknown): Envelope {
  const parsed = envelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new EnvelopeValidationError(issuesFromZod(parsed.error, candidate));
  }
  return parsed.data;
}

/** Serializes an envelope and enforces the size limit (bytes of UTF-8 JSON). */
export function serializeEnvelope(envelope: Envelope, maxBytes: number): string {
  let json: string;
  try {
    json = JSON.stringify(envelope);
  } catch (error) {
    // BigInt, circular references, a throwing toJSON: the caller's data, not our bug
    throw new EnvelopeValidationError([
      { path: 'data', rule: 'json', message: `not serializable as JSON: ${(error as Error).message}` },
    ]);
  }
  // a UTF-8 byte is at least one UTF-16 unit, so short strings skip the exact count
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) {
      throw new EnvelopeValidationError([
        {
          path: '',
          rule: 'max_bytes',
          message: `serialized envelope is ${bytes} bytes, over the ${maxBytes}-byte limit`,
        },
      ]);
    }
  }
  return json;
}
