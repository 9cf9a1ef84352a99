import type { MessageRow } from './record';

/** What the `Message` class accepts; the schema declares the same limits (migration 1). */
export const RECORD_LIMITS = {
  /** ts may not precede the epoch: a clock that says 1969 is broken. */
  minTs: Date.UTC(1970, 0, 1),
  serviceChars: 128,
  typeChars: 128,
  messageChars: 65_536,
} as const;

/**
 * Why OrientDB would refuse this row, naming the field and the rule, or undefined if it would not.
 * Checked before writing: a transaction that fails can leave its Lucene entries behind in
 * OrientDB 3.2, so the writer keeps refused rows out of the batch instead of letting it fail.
 */
export function rowProblem(row: MessageRow): string | undefined {
  if (Number.isNaN(row.ts.getTime())) {
    return 'ts: not a valid date [format]';
  }
  if (row.ts.getTime() < RECORD_LIMITS.minTs) {
    return `ts: ${row.ts.toISOString()} precedes the first acceptable date 1970-01-01T00:00:00Z [min]`;
  }
  if (row.service.length > RECORD_LIMITS.serviceChars) {
    return `source.service: longer than ${RECORD_LIMITS.serviceChars} characters [max]`;
  }
  if (row.type.length > RECORD_LIMITS.typeChars) {
    return `type: longer than ${RECORD_LIMITS.typeChars} characters [max]`;
  }
  const messageChars = (row.message?.length ?? 0) + (row.messageMore?.length ?? 0);
  if (messageChars > RECORD_LIMITS.messageChars) {
    return `message: ${messageChars} characters, more than ${RECORD_LIMITS.messageChars} [max]`;
  }
  return undefined;
}
