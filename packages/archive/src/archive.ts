import { OrientConnection, type OrientConfig } from './connection';
import { CountBudget } from './count-rows';
import { silentLogger, type ArchiveLogger } from './logger';
import { counts, findById, search, type Bucket, type CountQuery, type SearchPage, type SearchQuery } from './query';
import type { ArchivedMessage, ArchiveInput } from './record';
import { deleteOlderThan } from './retention';
import { bootstrapSchema } from './schema';
import { ensureUser, type ArchiveUser } from './users';
import { writeBatch, type WriteResult } from './writer';

export interface ArchiveOptions extends OrientConfig {
  logger?: ArchiveLogger;
}

/** The message archive. The only door to OrientDB: services never see the driver. */
export interface Archive {
  /** Creates the database if missing and applies pending migrations; returns the schema version. */
  bootstrap(): Promise<number>;
  /** Throws ArchiveUnavailableError unless OrientDB answers. */
  ping(): Promise<void>;
  /**
   * Stores a batch. Concurrent writers (consumers of one group, in one process or several) should
   * each pass a `writer` id of their own: it keeps their transactions off each other's count rows.
   */
  write(batch: readonly ArchiveInput[], writer?: string): Promise<WriteResult>;
  /** Throws ArchiveQueryError (naming the field and rule) on bad input. */
  search(query?: SearchQuery): Promise<SearchPage>;
  counts(query: CountQuery): Promise<Bucket[]>;
  findById(channel: string, id: string): Promise<ArchivedMessage | null>;
  /**
   * Creates a user of the archive's database, or sets its password and role (see users.ts): the
   * admin reads as a `reader` instead of the server's root. Needs a user allowed to manage users.
   */
  ensureUser(user: ArchiveUser): Promise<void>;
  /** Retention: deletes records older than `cutoff`, in batches; returns how many. */
  deleteOlderThan(cutoff: Date, batchSize?: number): Promise<number>;
  close(): Promise<void>;
}

/** An archive on one OrientDB database; connects on first use. */
export function createArchive(options: ArchiveOptions): Archive {
  const logger = options.logger ?? silentLogger;
  const conn = new OrientConnection(options, logger);
  // the combinations each writer has counted this minute: the bound on count rows holds across batches
  const budget = new CountBudget();
  return {
    bootstrap: () => bootstrapSchema(conn, logger),
    ping: async () => {
      await conn.query('SELECT 1 AS ok');
    },
    write: (batch, writer = '') => writeBatch(conn, batch, writer, budget),
    search: (query) => search(conn, query),
    counts: (query) => counts(conn, query),
    findById: (channel, id) => findById(conn, channel, id),
    deleteOlderThan: (cutoff, batchSize) => deleteOlderThan(conn, cutoff, batchSize),
    ensureUser: (user) => ensureUser(conn, user),
    close: () => conn.close(),
  };
}
