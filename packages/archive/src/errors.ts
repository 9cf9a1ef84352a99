/** The archive's error taxonomy: a stable `code` per kind, so services map them to statuses. */
export class ArchiveError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** OrientDB could not be reached (or stopped answering); nothing of the operation is confirmed. */
export class ArchiveUnavailableError extends ArchiveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARCHIVE_UNAVAILABLE', message, options);
  }
}

/** One rule a query field broke: `{ field: 'limit', rule: 'max', message: ... }`. */
export interface QueryIssue {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/** A search or count request is invalid (caller's fault, HTTP 400). */
export class ArchiveQueryError extends ArchiveError {
  readonly issues: readonly QueryIssue[];

  constructor(issues: readonly QueryIssue[]) {
    super(
      'ARCHIVE_QUERY_INVALID',
      `invalid query: ${issues.map((i) => `${i.field}: ${i.message} [${i.rule}]`).join('; ')}`,
    );
    this.issues = issues;
  }
}

export class ArchiveClosedError extends ArchiveError {
  constructor() {
    super('ARCHIVE_CLOSED', 'archive is closed');
  }
}
