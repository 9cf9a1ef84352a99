import { orientDbServerConfig, testDatabase } from '@mupets/testkit';
import {
  createArchive,
  MIGRATIONS,
  SCHEMA_VERSION,
  type Archive,
  type ArchivedMessage,
  type ArchiveInput,
  type SearchQuery,
} from '../src';
import { OrientConnection } from '../src/connection';
import { CONVERT_BATCH } from '../src/legacy-data';
import { silentLogger } from '../src/logger';
import { toRow } from '../src/record';
import { bootstrapSchema } from '../src/schema';
import { insertScript } from '../src/writer';
import { input } from './helpers';

const LEGACY = CONVERT_BATCH * 4 + 37; // several batches and a partial one

/** Writes `inputs` as the version-1 writer did (data as JSON text), 500 per transaction. */
async function legacyWrite(conn: OrientConnection, inputs: readonly ArchiveInput[]): Promise<void> {
  for (let start = 0; start < inputs.length; start += 500) {
    const rows = inputs.slice(start, start + 500).map((item) => {
      // the version-1 row: no container fields, data as text
      const row: Record<string, unknown> = { ...toRow(item) };
      delete row.cid;
      delete row.cid12;
      delete row.stream;
      return { ...row, data: item.envelope.data === undefined ? null : JSON.stringify(item.envelope.data) };
    });
    const { script, params } = insertScript(rows as never);
    await conn.script(script, params);
  }
}

/** A database at schema version 1 holding `inputs` as the version-1 writer stored them. */
async function legacyDatabase(database: string, inputs: readonly ArchiveInput[]): Promise<void> {
  const conn = new OrientConnection({ ...orientDbServerConfig(), database }, silentLogger);
  try {
    expect(await bootstrapSchema(conn, silentLogger, MIGRATIONS.slice(0, 1))).toBe(1);
    await legacyWrite(conn, inputs);
    const [row] = await conn.query<{ n: number }>("SELECT count(*) AS n FROM Message WHERE data.type() = 'STRING'");
    expect(Number(row?.n)).toBe(inputs.filter((i) => i.envelope.data !== undefined).length);
  } finally {
    await conn.close();
  }
}

const CONTAINER_ID = 'c0ffee123456'.padEnd(64, 'a');

/** Every record of a search, page by page. */
async function allRecords(archive: Archive, query: SearchQuery = {}): Promise<ArchivedMessage[]> {
  const records: ArchivedMessage[] = [];
  let before: string | undefined;
  do {
    const page = await archive.search({ ...query, limit: 1000, ...(before ? { before } : {}) });
    records.push(...page.records);
    before = page.next ?? undefined;
  } while (before);
  return records;
}

function legacyInputs(): ArchiveInput[] {
  return Array.from({ length: LEGACY }, (_, i) =>
    input(i, {
      source: { service: 'nginx', instance: i % 2 === 0 ? 'proj-nginx-1' : 'other' },
      data:
        i % 100 === 99
          ? undefined
          : {
              i,
              status: i % 10 === 0 ? 500 : 200,
              '@class': 'OUser',
              nested: { list: [i, { 'a.b': null }], flag: i % 2 === 0 },
              ...(i % 2 === 0 ? { docker: { containerId: CONTAINER_ID, image: 'nginx', stream: 'stderr' } } : {}),
            },
    }),
  );
}

describe('migration 2: data as JSON text becomes an embedded document', () => {
  it('converts every record of an archive, in batches, run by three archivers at once', async () => {
    const database = testDatabase(__filename);
    const inputs = legacyInputs();
    await legacyDatabase(database, inputs);

    const archives = Array.from({ length: 3 }, () => createArchive({ ...orientDbServerConfig(), database }));
    try {
      expect(await Promise.all(archives.map((a) => a.bootstrap()))).toEqual([
        SCHEMA_VERSION,
        SCHEMA_VERSION,
        SCHEMA_VERSION,
      ]);
      const conn = new OrientConnection({ ...orientDbServerConfig(), database }, silentLogger);
      try {
        const types = await conn.query<{ t: string | null; n: number }>(
          'SELECT data.type() AS t, count(*) AS n FROM Message GROUP BY t',
        );
        const byType = Object.fromEntries(types.map((row) => [String(row.t), Number(row.n)]));
        expect(byType).toEqual({ EMBEDDEDMAP: LEGACY - Math.floor(LEGACY / 100), null: Math.floor(LEGACY / 100) });
        const versions = await conn.query<{ version: number }>('SELECT version FROM SchemaMigration ORDER BY version');
        expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await conn.close();
      }

      const archive = archives[0]!;
      // every record reads back as published
      const all = new Map((await allRecords(archive)).map((record) => [record.id, record.data]));
      expect(all.size).toBe(LEGACY);
      for (const item of inputs) {
        expect(all.get(item.envelope.id)).toEqual(item.envelope.data);
      }
      // the converted records answer the new filters
      const errors = await allRecords(archive, { field: 'status', value: 500 });
      expect(errors).toHaveLength(inputs.filter((x) => x.envelope.data?.status === 500).length);
      const byId = await allRecords(archive, { container: CONTAINER_ID.slice(0, 12), stream: 'stderr' });
      expect(byId).toHaveLength(inputs.filter((x) => x.envelope.data?.docker !== undefined).length);

      // a later start finds nothing to do and changes nothing
      expect(await archive.bootstrap()).toBe(SCHEMA_VERSION);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  it('an archiver of the previous version writing meanwhile (a rolling upgrade) loses and doubles nothing', async () => {
    const database = testDatabase(__filename);
    const inputs = legacyInputs().slice(0, CONVERT_BATCH * 2);
    await legacyDatabase(database, inputs);
    const migrating = createArchive({ ...orientDbServerConfig(), database });
    const old = new OrientConnection({ ...orientDbServerConfig(), database }, silentLogger);
    try {
      const late = Array.from({ length: 300 }, (_, i) => input(50_000 + i, { data: { late: i, '@class': 'x' } }));
      await Promise.all([
        migrating.bootstrap(),
        (async () => {
          for (let start = 0; start < late.length; start += 50) {
            await legacyWrite(old, late.slice(start, start + 50));
          }
        })(),
      ]);
      // what the old version wrote after the conversion passed stays text; it reads back the same
      const records = await allRecords(migrating);
      expect(records).toHaveLength(inputs.length + late.length);
      const expected = new Map([...inputs, ...late].map((x) => [x.envelope.id, x.envelope.data]));
      for (const record of records) {
        expect(record.data).toEqual(expected.get(record.id));
      }
      // and the new version's records written now are embedded
      const now = input(90_000, { data: { now: true } });
      expect((await migrating.write([now])).stored).toBe(1);
      expect((await migrating.search({ field: 'now', value: true })).records.map((r) => r.id)).toEqual([
        now.envelope.id,
      ]);
    } finally {
      await Promise.all([migrating.close(), old.close()]);
    }
  });
});
