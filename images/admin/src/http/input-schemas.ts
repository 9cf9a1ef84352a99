import { FIELD_PATH, FIELD_PATH_RULE } from '@mupets/archive';
import { LEVELS, NAME_PATTERN, NAME_RULE } from '@mupets/broker';
import { z } from 'zod';

/** A channel name, as the broker allows it. */
export const channelName = z.string().regex(NAME_PATTERN, NAME_RULE);

/** A consumer group name: the broker's rule for channels too. */
export const groupName = z.string().regex(NAME_PATTERN, NAME_RULE);

/** An envelope id, as the envelope schema bounds it. */
export const envelopeId = z.string().min(1).max(128);

/** A broker entry id: Redis `<ms>-<seq>`, Kafka `<partition>-<offset>`. */
export const entryId = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'an entry id like 1732000000000-0');

/** A service name or event type: an identifier, never free text (letters, digits, `. _ - : /`). */
export const identifier = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/,
    '1-128 of letters, digits and . _ - : /, starting with a letter or digit',
  );

export const level = z.enum(LEVELS);

/** ISO-8601 with an offset or Z. */
export const isoTime = z.iso.datetime({ offset: true });

/** A whole number in a query string. */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,7}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** A path inside an archived record's `data` (`status`, `http.method`): the archive's rule. */
export const fieldPath = z.string().regex(FIELD_PATH, FIELD_PATH_RULE);

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A field filter's value from a query string, typed as JSON reads it: `500` is the number,
 * `true`/`false` the booleans, `"500"` (quoted) the string; any other text is that string.
 */
export const fieldValue = z
  .string()
  .max(1024)
  .transform((text): string | number | boolean => {
    if (text === 'true' || text === 'false') {
      return text === 'true';
    }
    if (JSON_NUMBER.test(text) && Number.isFinite(Number(text))) {
      return Number(text);
    }
    if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
      try {
        return JSON.parse(text) as string;
      } catch {
        return text;
      }
    }
    return text;
  });
