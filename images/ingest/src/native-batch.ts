import { randomUUID } from 'node:crypto';
import { envelopeSchema, EnvelopeValidationError, type MessageInput } from '@mupets/broker';
import { messageViolation, type TokenScope } from '@mupets/tokens';
import { IngestError, invalidInput, type IngestIssue } from './ingest-error';

/** Records ready for `publish()`, with the envelope id each will carry. */
export interface PreparedBatch {
  readonly messages: MessageInput[];
  readonly ids: string[];
}

const vRule = envelopeSchema.shape.v;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks what only the ingest knows and hands the rest to the broker's envelope rules (publish()
 * validates every message with them, and fills `ts`, `channel` and `v`):
 * - a `channel` in a record must be the URL's, and `v` the envelope's version; both are then left
 *   for publish() to set, as for any publisher;
 * - the token must allow the record's `source.service`, and no record may send an `admin.*` type
 *   (403 naming each record);
 * - a record without an `id` gets one here, a random UUID as publish() would give it, so the reply
 *   can return it: the id is what makes a resend idempotent downstream.
 */
export function prepareNativeBatch(
  records: readonly unknown[],
  lines: readonly number[] | undefined,
  channel: string,
  scope: TokenScope,
): PreparedBatch {
  const invalid: IngestIssue[] = [];
  const forbidden: IngestIssue[] = [];
  const ids: string[] = [];
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    const where = { index, ...(lines ? { line: lines[index] } : {}) };
    if (!isObject(record)) {
      ids.push('');
      continue; // publish() names it: "expected an object"
    }
    if ('channel' in record) {
      if (record.channel !== channel) {
        invalid.push({
          ...where,
          field: 'channel',
          rule: 'channel_mismatch',
          message: `the record names channel ${JSON.stringify(record.channel)}, the URL ${JSON.stringify(channel)}`,
        });
      }
      delete record.channel;
    }
    if ('v' in record) {
      const version = vRule.safeParse(record.v);
      if (!version.success) {
        invalid.push({ ...where, field: 'v', rule: 'enum', message: 'the envelope version must be 1' });
      }
      delete record.v;
    }
    const source = record.source;
    const violation = messageViolation(scope, isObject(source) ? source.service : undefined, record.type);
    if (violation) {
      forbidden.push({ ...where, field: violation.field, rule: violation.rule, message: violation.message });
    }
    record.id ??= randomUUID();
    ids.push(typeof record.id === 'string' ? record.id : '');
  }
  if (invalid.length > 0) {
    throw invalidInput(invalid);
  }
  if (forbidden.length > 0) {
    throw new IngestError(
      403,
      'forbidden',
      forbidden.map((issue) => `record ${issue.index}: ${issue.message}`).join('; '),
      {
        issues: forbidden,
      },
    );
  }
  return { messages: records as MessageInput[], ids };
}

/**
 * The broker's envelope issues (`[3].source.service`) as the ingest reports them: the record's
 * index, its NDJSON line, the field. A batch whose only problem is size is 413, else 400.
 */
export function envelopeIssues(error: EnvelopeValidationError, lines: readonly number[] | undefined): IngestError {
  const issues: IngestIssue[] = error.issues.map((issue) => {
    const match = /^\[(\d+)\](?:\.(.*))?$/.exec(issue.path);
    if (!match) {
      return { field: issue.path, rule: issue.rule, message: issue.message };
    }
    const index = Number(match[1]);
    const line = lines?.[index];
    return {
      index,
      ...(line !== undefined ? { line } : {}),
      field: match[2] ?? '',
      rule: issue.rule,
      message: issue.message,
    };
  });
  if (issues.every((issue) => issue.rule === 'max_bytes')) {
    const mapped = invalidInput(issues);
    return new IngestError(413, 'record_too_large', mapped.message, { issues });
  }
  return invalidInput(issues);
}
