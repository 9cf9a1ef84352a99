export { createArchive, type Archive, type ArchiveOptions } from './archive';
export { classifyFailure, type FailureKind } from './classify';
export type { OrientConfig } from './connection';
export {
  ArchiveClosedError,
  ArchiveError,
  ArchiveQueryError,
  ArchiveUnavailableError,
  type QueryIssue,
} from './errors';
export type { ArchiveLogger } from './logger';
export type { Bucket, CountQuery, SearchPage, SearchQuery } from './query';
export type { ArchivedMessage, ArchiveInput } from './record';
export { MIGRATIONS, SCHEMA_VERSION } from './schema';
export type { RejectedInput, WriteResult } from './writer';
