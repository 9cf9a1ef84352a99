import { createArchive, type Archive, type ArchiveLogger } from '@mupets/archive';
import type { AdminConfig } from '../config';

/**
 * The admin's archive. The admin only reads: in the stack it logs in as the reader user the
 * log-archiver keeps (`ORIENTDB_READER_USER` there), not as the server's root, and it never creates
 * the database: the log-archiver owns it and its schema (readiness says when it is there).
 */
export function openArchiveReader(
  config: Pick<
    AdminConfig,
    'ORIENTDB_HOST' | 'ORIENTDB_PORT' | 'ORIENTDB_USER' | 'ORIENTDB_PASSWORD' | 'ORIENTDB_DATABASE'
  >,
  logger?: ArchiveLogger,
): Archive {
  return createArchive({
    host: config.ORIENTDB_HOST,
    port: config.ORIENTDB_PORT,
    username: config.ORIENTDB_USER,
    password: config.ORIENTDB_PASSWORD,
    database: config.ORIENTDB_DATABASE,
    createDatabase: false,
    ...(logger ? { logger } : {}),
  });
}
