import { OrientDBClient } from 'orientjs';
import { orientDbServerConfig, testDatabase } from '@mupets/testkit';
import { createArchive, MIGRATIONS, SCHEMA_VERSION } from '../src';
import { OrientConnection } from '../src/connection';
import { bootstrapSchema } from '../src/schema';

interface Snapshot {
  classes: string[];
  indexes: string[];
  migrations: number[];
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function classExists(database: string, name: string): Promise<boolean> {
  const conn = new OrientConnection({ ...orientDbServerConfig(), database }, quiet);
  try {
    const rows = await conn.query('SELECT name FROM (SELECT expand(classes) FROM metadata:schema) WHERE name = :name', {
      name,
    });
    return rows.length > 0;
  } finally {
    await conn.close();
  }
}

/** Classes (with properties and their constraints), indexes and recorded migrations, sorted. */
async function snapshot(database: string): Promise<Snapshot> {
  const { host, port, username, password } = orientDbServerConfig();
  const client = await OrientDBClient.connect({ host, port });
  try {
    const pool = await client.sessions({ name: database, username, password, pool: { max: 1 } });
    const s = await pool.acquire();
    const classes = await s
      .query<{ name: string; properties: Array<Record<string, unknown>> }>(
        'SELECT name, properties FROM (SELECT expand(classes) FROM metadata:schema) WHERE name IN :names',
        { params: { names: ['Message', 'MessageCount', 'SchemaMigration'] } },
      )
      .all();
    const indexes = await s
      .query<{ name: string; type: string }>(
        'SELECT name, type FROM (SELECT expand(indexes) FROM metadata:indexmanager)',
      )
      .all();
    const migrations = await s.query<{ version: number }>('SELECT version FROM SchemaMigration').all();
    await s.close();
    await pool.close();
    return {
      classes: classes
        .map((c) =>
          JSON.stringify([
            c.name,
            c.properties
              .map((p) => [p.name, p.type, p.mandatory, p.notNull, p.min ?? null, p.max ?? null].join(' '))
              .sort(),
          ]),
        )
        .sort(),
      indexes: indexes
        .filter((i) => /^(Message|MessageCount|SchemaMigration)\./.test(i.name))
        .map((i) => `${i.name} ${i.type}`)
        .sort(),
      migrations: migrations.map((m) => m.version).sort((a, b) => a - b),
    };
  } finally {
    await client.close();
  }
}

describe('schema bootstrap', () => {
  it('creates the database and the schema, and a second run changes nothing', async () => {
    const database = testDatabase(__filename);
    const archive = createArchive({ ...orientDbServerConfig(), database });
    try {
      expect(await archive.bootstrap()).toBe(SCHEMA_VERSION);
      const first = await snapshot(database);
      expect(first.migrations).toEqual(MIGRATIONS.map((m) => m.version));
      expect(first.indexes).toEqual(
        expect.arrayContaining([
          'Message.uid UNIQUE_HASH_INDEX',
          'Message.tk UNIQUE',
          'Message.message FULLTEXT',
          'MessageCount.k UNIQUE_HASH_INDEX',
        ]),
      );
      expect(first.classes.find((c) => c.startsWith('["Message",'))).toContain('ts 6 true true 1970-01-01 00:00:00'); // 6 = DATETIME;
      expect(await archive.bootstrap()).toBe(SCHEMA_VERSION);
      expect(await snapshot(database)).toEqual(first);
    } finally {
      await archive.close();
    }
  });

  it('run by four replicas at once on a new database: same schema, no error, each migration recorded once', async () => {
    const database = testDatabase(__filename);
    const archives = Array.from({ length: 4 }, () => createArchive({ ...orientDbServerConfig(), database }));
    try {
      const versions = await Promise.all(archives.map((a) => a.bootstrap()));
      expect(versions).toEqual([SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]);
      const concurrent = await snapshot(database);
      const reference = testDatabase(__filename);
      const single = createArchive({ ...orientDbServerConfig(), database: reference });
      await single.bootstrap();
      await single.close();
      expect(concurrent).toEqual(await snapshot(reference));
      expect(await classExists(database, 'SchemaBootstrapLock')).toBe(false);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  it('a migration lock left by a replica that died is taken over once its heartbeat stopped', async () => {
    const database = testDatabase(__filename);
    const messages: string[] = [];
    const logger = {
      info: (message: string) => messages.push(message),
      warn: (message: string) => messages.push(message),
      error: (message: string) => messages.push(message),
    };
    const conn = new OrientConnection({ ...orientDbServerConfig(), database }, logger);
    try {
      // what a replica killed mid-migration leaves: the lock class with its last token
      await conn.command('CREATE CLASS SchemaBootstrapLock');
      await conn.command("INSERT INTO SchemaBootstrapLock SET token = 'dead-replica'");
      await expect(bootstrapSchema(conn, logger, MIGRATIONS, 1500)).resolves.toBe(SCHEMA_VERSION);
      expect(messages).toContain('archive schema: another replica is migrating, waiting for it');
      expect(messages).toContain('archive schema: taking over a migration lock left by a replica that stopped');
      expect(await classExists(database, 'SchemaBootstrapLock')).toBe(false);
      expect((await snapshot(database)).migrations).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await conn.close();
    }
  });
});
