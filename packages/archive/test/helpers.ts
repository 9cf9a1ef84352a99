import { randomUUID } from 'node:crypto';
import { OrientDBClient } from 'orientjs';
import type { Envelope, Level } from '@mupets/broker';
import { orientDbServerConfig, testDatabase } from '@mupets/testkit';
import { createArchive, type Archive, type ArchiveInput } from '../src';

/** An archive on a fresh database of its own, bootstrapped; closed (not dropped) after the file. */
export function archivePerFile(testFile: string): { archive: () => Archive; database: string } {
  const database = testDatabase(testFile);
  let archive: Archive | undefined;
  beforeAll(async () => {
    archive = createArchive({ ...orientDbServerConfig(), database });
    await archive.bootstrap();
  });
  afterAll(async () => {
    await archive?.close();
  });
  return {
    database,
    archive: () => {
      if (!archive) {
        throw new Error('archive used before beforeAll');
      }
      return archive;
    },
  };
}

const SERVICES = ['api', 'billing', 'mailer'] as const;
const LEVELS: Level[] = ['error', 'warn', 'info', 'debug'];

let brokerSeq = 0;

/** A valid archive input; `i` spreads service, level, type and time deterministically. */
export function input(i: number, overrides: Partial<Envelope> = {}, channel = 'logs'): ArchiveInput {
  const envelope: Envelope = {
    id: randomUUID(),
    channel,
    type: i % 5 === 0 ? 'order.created' : 'log',
    ts: new Date(Date.UTC(2026, 10, 20, 12, 0, 0) + i * 1000).toISOString(),
    source: { service: SERVICES[i % SERVICES.length]!, instance: `i-${i % 2}`, host: 'h1' },
    level: LEVELS[i % LEVELS.length],
    message: `message number ${i}`,
    data: { i, nested: { ok: true } },
    v: 1,
    ...overrides,
  };
  brokerSeq++;
  return { brokerId: `${1_790_000_000_000 + brokerSeq}-0`, channel, envelope };
}

/** A statement run straight on OrientDB, as Studio or its REST API would run it (not the code under test). */
export async function rawQuery<T>(database: string, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const { host, port, username, password } = orientDbServerConfig();
  const client = await OrientDBClient.connect({ host, port });
  try {
    const pool = await client.sessions({ name: database, username, password, pool: { max: 1 } });
    const session = await pool.acquire();
    try {
      return await session.command<T>(sql, { params }).all();
    } finally {
      await session.close();
      await pool.close();
    }
  } finally {
    await client.close();
  }
}
