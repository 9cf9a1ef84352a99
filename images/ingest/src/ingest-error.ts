/** One rule one part of a request broke. `index` and `line` locate the record (`line`: NDJSON only). */
export interface IngestIssue {
  /** The record's position in the batch (0-based), when the issue is about one record. */
  readonly index?: number;
  /** The NDJSON line (1-based) the record came from. */
  readonly line?: number;
  /** The field, dotted (`source.service`, `resourceLogs.0.scopeLogs.0.logRecords.2.body`); `''` for the record. */
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * An expected failure with its HTTP status and stable code (docs/ingest.md lists them). Anything
 * else reaching the error handler is a bug: a generic 500.
 */
export class IngestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: readonly IngestIssue[] | undefined;
  /** Seconds, sent as Retry-After (429, 503). */
  readonly retryAfterS: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { issues?: readonly IngestIssue[]; retryAfterS?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestError';
    this.status = status;
    this.code = code;
    this.issues = options?.issues;
    this.retryAfterS = options?.retryAfterS;
  }
}

/** Where an issue is: `line 3 (record 2): source.service` or `record 0` or `body`. */
export function describeIssue(issue: IngestIssue): string {
  const where =
    issue.line !== undefined ? `line ${issue.line}` : issue.index !== undefined ? `record ${issue.index}` : '';
  const field = issue.field ? `${where ? ' ' : ''}${issue.field}` : '';
  return `${where}${field}: ${issue.message} [${issue.rule}]`;
}

/** 400 `invalid_input`, its message naming every issue (the first 20). */
export function invalidInput(issues: readonly IngestIssue[]): IngestError {
  const shown = issues.slice(0, 20).map(describeIssue);
  const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more` : '';
  return new IngestError(400, 'invalid_input', `${shown.join('; ')}${more}`, { issues });
}
