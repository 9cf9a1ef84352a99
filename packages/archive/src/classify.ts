/**
 * How an orientjs failure should be handled:
 * - `unavailable`: the connection failed or the server is not serving; retry the whole operation later;
 * - `duplicate`: a UNIQUE index refused a key (the record is already there);
 * - `rejected`: the server refused this data for good (schema validation); never retry it;
 * - `conflict`: a concurrent transaction touched the same record; retry soon;
 * - `other`: anything else, e.g. a bug in a query; surfaced as is.
 */
export type FailureKind = 'unavailable' | 'duplicate' | 'rejected' | 'conflict' | 'other';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

// Java exception classes the server reports in `type` (simple names)
const REJECTED = new Set(['OValidationException', 'OSerializationException']);
const DUPLICATE = new Set(['ORecordDuplicatedException']);
const CONFLICT = new Set(['OConcurrentModificationException', 'OConcurrentCreateException', 'ONeedRetryException']);
const SERVER_NOT_SERVING = new Set([
  'OStorageException',
  'ODatabaseException',
  'OOfflineClusterException',
  'OInterruptedException',
  'OTimeoutException',
  'OOfflineNodeException',
  'OShutdownException',
]);

interface OrientLikeError {
  name?: unknown;
  code?: unknown;
  type?: unknown;
  message?: unknown;
}

export function classifyFailure(error: unknown): FailureKind {
  if (error === null || typeof error !== 'object') {
    return 'other';
  }
  const e = error as OrientLikeError;
  const name = typeof e.name === 'string' ? e.name : '';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return 'unavailable';
  }
  if (name.startsWith('OrientDB.ConnectionError') || name === 'ArchiveUnavailableError') {
    return 'unavailable';
  }
  const type = typeof e.type === 'string' ? (e.type.split('.').pop() ?? '') : '';
  if (DUPLICATE.has(type)) {
    return 'duplicate';
  }
  if (REJECTED.has(type)) {
    return 'rejected';
  }
  if (CONFLICT.has(type)) {
    return 'conflict';
  }
  if (SERVER_NOT_SERVING.has(type)) {
    return 'unavailable';
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (/socket (is )?closed|connection (is )?closed|not connected|no connection/i.test(message)) {
    return 'unavailable';
  }
  return 'other';
}

/** The server's own words, without orientjs' trailing `DB name=...` lines. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(/\r?\n\s*DB name=/)[0]!.trim();
}
