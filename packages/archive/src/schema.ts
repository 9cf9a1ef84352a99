import { classifyFailure } from './classify';
import type { OrientConnection } from './connection';
import { convertLegacyData } from './legacy-data';
import { RECORD_LIMITS } from './record-limits';
import type { ArchiveLogger } from './logger';

/** The class that holds one record per archived message (both channels share envelope v1). */
export const MESSAGE_CLASS = 'Message';
/** Per-minute counts, kept in step with `Message` by the writer and retention. */
export const COUNT_CLASS = 'MessageCount';
const MIGRATION_CLASS = 'SchemaMigration';

export interface Migration {
  readonly version: number;
  readonly description: string;
  /** Idempotent DDL statements, run in order (every one safe to repeat). */
  readonly statements: readonly string[];
  /**
   * Then a data step, if any: it must be idempotent, work in batches and tolerate several
   * archivers running it at once. The migration is recorded only after it finished.
   */
  readonly convert?: (conn: OrientConnection, logger: ArchiveLogger) => Promise<unknown>;
}

/**
 * The schema as an ordered list of migrations. Never edit one that has shipped: append a new one.
 * Every statement is idempotent (IF NOT EXISTS), so two replicas starting at once both succeed.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'Message and MessageCount classes with their indexes',
    statements: [
      `CREATE CLASS ${MESSAGE_CLASS} IF NOT EXISTS`,
      ...properties(MESSAGE_CLASS, {
        uid: 'STRING',
        eid: 'STRING',
        channel: 'STRING',
        brokerId: 'STRING',
        tk: 'STRING',
        ts: 'DATETIME',
        service: 'STRING',
        instance: 'STRING',
        host: 'STRING',
        level: 'STRING',
        type: 'STRING',
        message: 'STRING',
        data: 'STRING',
      }),
      ...['uid', 'eid', 'channel', 'brokerId', 'tk', 'ts', 'service', 'type'].flatMap((p) => [
        `ALTER PROPERTY ${MESSAGE_CLASS}.${p} MANDATORY true`,
        `ALTER PROPERTY ${MESSAGE_CLASS}.${p} NOTNULL true`,
      ]),
      // the writer checks these first (record-limits.ts); the store enforces them again
      `ALTER PROPERTY ${MESSAGE_CLASS}.ts MIN "1970-01-01 00:00:00"`,
      `ALTER PROPERTY ${MESSAGE_CLASS}.service MAX ${RECORD_LIMITS.serviceChars}`,
      `ALTER PROPERTY ${MESSAGE_CLASS}.type MAX ${RECORD_LIMITS.typeChars}`,
      `ALTER PROPERTY ${MESSAGE_CLASS}.message MAX ${RECORD_LIMITS.messageChars}`,
      // one record per (channel, envelope id): a redelivered message is stored once
      `CREATE INDEX ${MESSAGE_CLASS}.uid IF NOT EXISTS ON ${MESSAGE_CLASS} (uid) UNIQUE_HASH_INDEX`,
      // time order + keyset cursor; tk = "<ISO ts>|<uid>" sorts like (ts, uid)
      `CREATE INDEX ${MESSAGE_CLASS}.tk IF NOT EXISTS ON ${MESSAGE_CLASS} (tk) UNIQUE`,
      `CREATE INDEX ${MESSAGE_CLASS}.service_tk IF NOT EXISTS ON ${MESSAGE_CLASS} (service, tk) NOTUNIQUE`,
      `CREATE INDEX ${MESSAGE_CLASS}.level_tk IF NOT EXISTS ON ${MESSAGE_CLASS} (level, tk) NOTUNIQUE`,
      // "the last errors of a service" stays an index walk however rare its errors are
      `CREATE INDEX ${MESSAGE_CLASS}.service_level_tk IF NOT EXISTS ON ${MESSAGE_CLASS} (service, level, tk) NOTUNIQUE`,
      `CREATE INDEX ${MESSAGE_CLASS}.channel_brokerId IF NOT EXISTS ON ${MESSAGE_CLASS} (channel, brokerId) NOTUNIQUE_HASH_INDEX`,
      `CREATE INDEX ${MESSAGE_CLASS}.message IF NOT EXISTS ON ${MESSAGE_CLASS} (message) FULLTEXT ENGINE LUCENE`,
      `CREATE CLASS ${COUNT_CLASS} IF NOT EXISTS`,
      ...properties(COUNT_CLASS, {
        k: 'STRING',
        writer: 'STRING',
        total: 'BOOLEAN',
        bucket: 'STRING',
        channel: 'STRING',
        service: 'STRING',
        level: 'STRING',
        type: 'STRING',
        n: 'LONG',
      }),
      // k = countKey(bucket, channel, service, level, type): one hash lookup per upsert
      `CREATE INDEX ${COUNT_CLASS}.k IF NOT EXISTS ON ${COUNT_CLASS} (k) UNIQUE_HASH_INDEX`,
      `CREATE INDEX ${COUNT_CLASS}.total_bucket IF NOT EXISTS ON ${COUNT_CLASS} (total, bucket) NOTUNIQUE`,
    ],
  },
  {
    version: 2,
    description: 'data as an embedded document; container and stream of container output, indexed',
    statements: [
      // schemaless from now on: an embedded map (data-codec.ts); records not yet converted hold text
      `DROP PROPERTY ${MESSAGE_CLASS}.data IF EXISTS FORCE`,
      ...properties(MESSAGE_CLASS, { cid: 'STRING', cid12: 'STRING', stream: 'STRING' }),
      // a container's history: by name (source.instance), or by id (prefix of 12+ characters)
      `CREATE INDEX ${MESSAGE_CLASS}.instance_tk IF NOT EXISTS ON ${MESSAGE_CLASS} (instance, tk) NOTUNIQUE`,
      `CREATE INDEX ${MESSAGE_CLASS}.cid12_tk IF NOT EXISTS ON ${MESSAGE_CLASS} (cid12, tk) NOTUNIQUE`,
    ],
    convert: (conn, logger) => convertLegacyData(conn, logger, MESSAGE_CLASS),
  },
];

/**
 * The unique key of a MessageCount row. `writer` keeps concurrent writers (several consumers, several
 * replicas) on rows of their own: two transactions bumping one row would make one of them fail.
 * A count is the sum over writers. `total` rows count a whole channel per minute (no service, level
 * or type), for the unfiltered chart.
 */
export function countKey(
  bucket: string,
  channel: string,
  service: string,
  level: string,
  type: string,
  writer: string,
  total = false,
): string {
  return JSON.stringify(total ? [bucket, channel, writer] : [bucket, channel, service, level, type, writer]);
}

function properties(cls: string, props: Record<string, string>): string[] {
  return Object.entries(props).map(([name, type]) => `CREATE PROPERTY ${cls}.${name} IF NOT EXISTS ${type}`);
}

/** The version the database is at after `bootstrap`. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database to the newest schema: applies every migration not yet recorded, in order,
 * and records it. Safe to run from several replicas at once: statements are idempotent, a race
 * on DDL is retried, and the record of a migration is a UNIQUE key written once.
 */
export async function bootstrapSchema(
  conn: OrientConnection,
  logger: ArchiveLogger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  await retryDdl(async () => {
    await conn.command(`CREATE CLASS ${MIGRATION_CLASS} IF NOT EXISTS`);
    await conn.command(`CREATE PROPERTY ${MIGRATION_CLASS}.version IF NOT EXISTS INTEGER`);
    await conn.command(`CREATE INDEX ${MIGRATION_CLASS}.version IF NOT EXISTS ON ${MIGRATION_CLASS} (version) UNIQUE`);
  });
  const applied = new Set(
    (await conn.query<{ version: number }>(`SELECT version FROM ${MIGRATION_CLASS}`)).map((r) => r.version),
  );
  for (const migration of migrations) {
    if (applied.has(migration.version)) {
      continue;
    }
    await retryDdl(async () => {
      for (const statement of migration.statements) {
        await conn.command(statement);
      }
    });
    await migration.convert?.(conn, logger);
    try {
      await conn.command(
        `INSERT INTO ${MIGRATION_CLASS} SET version = :version, description = :description, appliedAt = sysdate()`,
        { version: migration.version, description: migration.description },
      );
      logger.info('archive schema migrated', { version: migration.version, description: migration.description });
    } catch (error) {
      if (classifyFailure(error) !== 'duplicate') {
        throw error;
      }
    }
  }
  return migrations[migrations.length - 1]?.version ?? 0;
}

/** Concurrent schema changes on one database can collide; the statements are idempotent, so retry. */
async function retryDdl(work: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      if (attempt >= 5 || classifyFailure(error) === 'unavailable') {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
    }
  }
}
