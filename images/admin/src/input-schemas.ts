import { LEVELS } from '@mupets/broker';
import { z } from 'zod';

/** A channel name, as the broker allows it. */
export const channelName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,47}$/, 'a channel name: 1-48 of a-z 0-9 . _ -');

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
