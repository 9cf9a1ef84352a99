import { randomUUID } from 'node:crypto';
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
      // k = the row's key (count-rows.ts): one hash lookup per upsert
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
  {
    version: 3,
    description: 'count rows past the per-minute bound of combinations: an overflow flag, indexed',
    statements: [
      ...properties(COUNT_CLASS, { overflow: 'BOOLEAN' }),
      // a filtered count looks up the minutes that overflowed in its range (count-rows.ts)
      `CREATE INDEX ${COUNT_CLASS}.overflow_bucket IF NOT EXISTS ON ${COUNT_CLASS} (overflow, bucket) NOTUNIQUE`,
    ],
  },
];

function properties(cls: string, props: Record<string, string>): string[] {
  return Object.entries(props).map(([name, type]) => `CREATE PROPERTY ${cls}.${name} IF NOT EXISTS ${type}`);
}

/** The version the database is at after `bootstrap`. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Exists while one replica changes the schema: created by exactly one, dropped when it is done. */
const LOCK_CLASS = 'SchemaBootstrapLock';
/** A lock whose token has not changed for this long (its replica died mid-migration) is taken over. */
const LOCK_STALE_MS = 2 * 60_000;
const LOCK_HEARTBEAT_MS = 10_000;

/**
 * Brings the database to the newest schema: applies every migration not yet recorded, in order,
 * and records it. Safe to run from several replicas at once: one of them changes the schema while
 * the others wait. OrientDB can deadlock on DDL from several sessions at once (CREATE PROPERTY and
 * ALTER PROPERTY on one class from four replicas hung them all until their timeout), so the
 * statements of the migrations never run concurrently: `CREATE CLASS SchemaBootstrapLock` succeeds
 * for one session only, and the others wait for the class to be dropped. A replica that died
 * holding it is taken over once its heartbeat has stopped for LOCK_STALE_MS. A database already
 * at the newest version takes no lock.
 */
export async function bootstrapSchema(
  conn: OrientConnection,
  logger: ArchiveLogger,
  migrations: readonly Migration[] = MIGRATIONS,
  lockStaleMs = LOCK_STALE_MS,
): Promise<number> {
  const newest = migrations[migrations.length - 1]?.version ?? 0;
  if ((await pending(conn, migrations)) > 0) {
    await withBootstrapLock(conn, logger, lockStaleMs, () => migrate(conn, logger, migrations));
  }
  return newest;
}

async function appliedVersions(conn: OrientConnection): Promise<Set<number>> {
  return new Set(
    (await conn.query<{ version: number }>(`SELECT version FROM ${MIGRATION_CLASS}`)).map((r) => r.version),
  );
}

/** How many migrations the database has not recorded (all of them when it has no record yet). */
async function pending(conn: OrientConnection, migrations: readonly Migration[]): Promise<number> {
  try {
    const applied = await appliedVersions(conn);
    return migrations.filter((m) => !applied.has(m.version)).length;
  } catch (error) {
    if (classifyFailure(error) === 'unavailable') {
      throw error;
    }
    // no SchemaMigration class yet: a new database
    return migrations.length;
  }
}

/**
 * Runs `work` while holding the lock class. The holder writes a fresh token into it every
 * LOCK_HEARTBEAT_MS; a waiter that sees the same token (or none) for LOCK_STALE_MS takes over.
 */
async function withBootstrapLock(
  conn: OrientConnection,
  logger: ArchiveLogger,
  staleMs: number,
  work: () => Promise<void>,
): Promise<void> {
  let seen: { token: string | undefined; since: number } | undefined;
  let told = false;
  for (;;) {
    try {
      await conn.command(`CREATE CLASS ${LOCK_CLASS}`);
    } catch (error) {
      if (classifyFailure(error) === 'unavailable') {
        throw error;
      }
      // another replica holds it: wait while its token changes
      if (!told) {
        told = true;
        logger.info('archive schema: another replica is migrating, waiting for it');
      }
      const token = await lockToken(conn);
      if (!seen || seen.token !== token) {
        seen = { token, since: Date.now() };
      } else if (Date.now() - seen.since > staleMs) {
        logger.warn('archive schema: taking over a migration lock left by a replica that stopped');
        await conn.command(`DROP CLASS ${LOCK_CLASS} IF EXISTS UNSAFE`);
        seen = undefined;
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 200));
      continue;
    }
    const beat = (): Promise<unknown> =>
      conn.command(`INSERT INTO ${LOCK_CLASS} SET token = :token`, { token: randomUUID() }).catch(() => undefined);
    await beat();
    const heartbeat = setInterval(() => void beat(), LOCK_HEARTBEAT_MS);
    try {
      await work();
      return;
    } finally {
      clearInterval(heartbeat);
      await conn.command(`DROP CLASS ${LOCK_CLASS} IF EXISTS UNSAFE`).catch((error: unknown) => {
        logger.warn('archive schema: the migration lock could not be dropped', {
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }
  }
}

/** The newest token in the lock class; undefined when it has none or is gone. */
async function lockToken(conn: OrientConnection): Promise<string | undefined> {
  try {
    const [row] = await conn.query<{ token: string }>(`SELECT token FROM ${LOCK_CLASS} ORDER BY @rid DESC LIMIT 1`);
    return row?.token;
  } catch (error) {
    if (classifyFailure(error) === 'unavailable') {
      throw error;
    }
    return undefined;
  }
}

/** Applies what is not recorded yet; runs under the bootstrap lock. */
async function migrate(conn: OrientConnection, logger: ArchiveLogger, migrations: readonly Migration[]): Promise<void> {
  await retryDdl(async () => {
    await conn.command(`CREATE CLASS ${MIGRATION_CLASS} IF NOT EXISTS`);
    await conn.command(`CREATE PROPERTY ${MIGRATION_CLASS}.version IF NOT EXISTS INTEGER`);
    await conn.command(`CREATE INDEX ${MIGRATION_CLASS}.version IF NOT EXISTS ON ${MIGRATION_CLASS} (version) UNIQUE`);
  });
  const applied = await appliedVersions(conn);
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
