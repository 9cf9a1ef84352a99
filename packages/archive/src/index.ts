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
export { FIELD_PATH, FIELD_PATH_RULE, type Bucket, type CountQuery, type SearchPage, type SearchQuery } from './query';
export { CONTAINER_ID, STREAMS, type ArchivedMessage, type ArchiveInput } from './record';
export { MIGRATIONS, SCHEMA_VERSION } from './schema';
export { USER_NAME_PATTERN, USER_NAME_RULE, USER_PASSWORD_MIN, type ArchiveUser } from './users';
export type { RejectedInput, WriteResult } from './writer';
