import { IngestError, invalidInput, type IngestIssue } from './ingest-error';

/** The records of a native request, and for NDJSON the line each came from. */
export interface ParsedRecords {
  readonly records: unknown[];
  /** `lines[i]`: the 1-based NDJSON line of record i; undefined for a JSON body. */
  readonly lines: number[] | undefined;
}

export type NativeFormat = 'json' | 'ndjson';

/** Which native format a Content-Type names, or undefined (415). */
export function nativeFormat(contentType: string | undefined): NativeFormat | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    return 'json';
  }
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/jsonlines') {
    return 'ndjson';
  }
  return undefined;
}

function jsonIssue(error: unknown, where: { line?: number }): IngestIssue {
  const reason = error instanceof Error ? error.message : String(error);
  return { ...where, field: '', rule: 'json', message: `not valid JSON: ${reason}` };
}

/**
 * A JSON body (one envelope, or an array of them) or NDJSON (one envelope per line; blank lines
 * are skipped) into records. A line over `maxLineBytes` is 413 naming the line; lines that are not
 * JSON are 400, each named. `maxRecords` bounds the batch (413).
 */
export function parseNativeBody(
  body: Buffer,
  format: NativeFormat,
  limits: { maxLineBytes: number; maxRecords: number },
): ParsedRecords {
  const text = body.toString('utf8');
  let parsed: ParsedRecords;
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw invalidInput([{ ...jsonIssue(error, {}), field: 'body' }]);
    }
    parsed = { records: Array.isArray(value) ? value : [value], lines: undefined };
  } else {
    parsed = parseNdjson(text, limits.maxLineBytes);
  }
  if (parsed.records.length === 0) {
    throw invalidInput([{ field: 'body', rule: 'min', message: 'no records in the body' }]);
  }
  if (parsed.records.length > limits.maxRecords) {
    throw new IngestError(
      413,
      'too_many_records',
      `${parsed.records.length} records in one request, over the limit of ${limits.maxRecords}`,
    );
  }
  return parsed;
}

function parseNdjson(text: string, maxLineBytes: number): ParsedRecords {
  const records: unknown[] = [];
  const lines: number[] = [];
  const bad: IngestIssue[] = [];
  const tooLarge: IngestIssue[] = [];
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) {
      end = text.length;
    }
    const raw = text.slice(start, end);
    start = end + 1;
    // a UTF-8 byte is at least one UTF-16 unit, so short lines skip the exact count
    if (raw.length * 3 > maxLineBytes && Buffer.byteLength(raw, 'utf8') > maxLineBytes) {
      tooLarge.push({
        line,
        field: '',
        rule: 'max_bytes',
        message: `line is ${Buffer.byteLength(raw, 'utf8')} bytes, over the ${maxLineBytes}-byte limit`,
      });
      continue;
    }
    if (raw.trim() === '') {
      continue;
    }
    try {
      records.push(JSON.parse(raw));
      lines.push(line);
    } catch (error) {
      bad.push(jsonIssue(error, { line }));
    }
  }
  if (tooLarge.length > 0) {
    throw new IngestError(
      413,
      'line_too_large',
      tooLarge.map((issue) => `line ${issue.line}: ${issue.message}`).join('; '),
      {
        issues: tooLarge,
      },
    );
  }
  if (bad.length > 0) {
    throw invalidInput(bad);
  }
  return { records, lines };
}
