import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EnvelopeValidationError, type EnvelopeIssue, InvalidNameError } from './errors';

/** Default limit on one serialized envelope: 64 KiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

// names are short enough that derived ones (`<channel>.dead`) still fit the envelope's 64-char rule
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,47}$/;
const NAME_RULE = '1-48 chars of a-z 0-9 . _ -, starting with a letter or digit';
const CHANNEL_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Channels and consumer groups share one naming rule, so they are safe inside Redis keys. */
export function assertName(kind: 'channel' | 'group' | 'consumer', name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
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
  data: z.record(z.string(), z.unknown()).optional(),
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

function issuesFromZod(error: z.ZodError): EnvelopeIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    rule: ruleOf(issue),
    message: issue.message,
  }));
}

function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : 'type';
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
    default:
      return issue.code;
  }
}

/**
 * Turns caller input into a complete, validated envelope for `channel`.
 * Throws EnvelopeValidationError naming every bad field.
 */
export function buildEnvelope(channel: string, input: unknown, now: () => Date = () => new Date()): Envelope {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EnvelopeValidationError([{ path: '', rule: 'type', message: 'expected an object' }]);
  }
  const raw = input as Record<string, unknown>;
  const candidate: Record<string, unknown> = {
    ...raw,
    id: raw.id ?? randomUUID(),
    ts: raw.ts ?? now().toISOString(),
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
  return validateEnvelope(candidate);
}

/** Validates a complete envelope (e.g. one read back from a stream). */
export function validateEnvelope(candidate: unknown): Envelope {
  const parsed = envelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new EnvelopeValidationError(issuesFromZod(parsed.error));
  }
  return parsed.data;
}

/** Serializes an envelope and enforces the size limit (bytes of UTF-8 JSON). */
export function serializeEnvelope(envelope: Envelope, maxBytes: number): string {
  const json = JSON.stringify(envelope);
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
