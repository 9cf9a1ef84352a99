import { randomBytes } from 'node:crypto';
import { orientDbServerConfig } from '@mupets/testkit';
import { ArchiveUnavailableError, createArchive, type Archive } from '../src';
import { archivePerFile, input } from './helpers';

const { archive, database } = archivePerFile(__filename);
const opened: Archive[] = [];
afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
});

/** The archive as the admin opens it: a database user, never creating the database. */
function asReader(username: string, password: string): Archive {
  const { host, port } = orientDbServerConfig();
  const reader = createArchive({ host, port, username, password, database, createDatabase: false });
  opened.push(reader);
  return reader;
}

describe('a reader user for the admin', () => {
  it('reads the archive, and cannot write to it or delete from it', async () => {
    const password = randomBytes(12).toString('hex');
    await archive().ensureUser({ name: 'mupets_reader', password, role: 'reader' });
    const stored = input(1);
    expect((await archive().write([stored])).stored).toBe(1);

    const reader = asReader('mupets_reader', password);
    expect((await reader.findById('logs', stored.envelope.id))?.id).toBe(stored.envelope.id);
    expect((await reader.search({ text: 'number' })).records.map((r) => r.id)).toEqual([stored.envelope.id]);
    await expect(reader.write([input(2)])).rejects.toThrow(/permission|not allowed|security/i);
    await expect(reader.deleteOlderThan(new Date())).rejects.toThrow(/permission|not allowed|security/i);
    expect((await archive().search({})).records).toHaveLength(1);
  });

  it('takes a new password when ensured again (rotation); the old one is refused', async () => {
    const first = randomBytes(12).toString('hex');
    const second = randomBytes(12).toString('hex');
    await archive().ensureUser({ name: 'rotated_reader', password: first, role: 'reader' });
    await asReader('rotated_reader', first).ping();
    await archive().ensureUser({ name: 'rotated_reader', password: second, role: 'reader' });
    await asReader('rotated_reader', second).ping();
    await expect(asReader('rotated_reader', first).ping()).rejects.toThrow(ArchiveUnavailableError);
  });

  it('never creates the database: a reader on a missing one gets "unavailable"', async () => {
    const { host, port } = orientDbServerConfig();
    const missing = createArchive({
      ...orientDbServerConfig(),
      database: `${database}_missing`,
      createDatabase: false,
    });
    opened.push(missing);
    await expect(missing.ping()).rejects.toThrow(ArchiveUnavailableError);
    // root could have created it: it was not
    const root = createArchive({
      ...orientDbServerConfig(),
      host,
      port,
      database: `${database}_missing`,
      createDatabase: false,
    });
    opened.push(root);
    await expect(root.ping()).rejects.toThrow(ArchiveUnavailableError);
  });

  it('refuses a user name or role outside the rule, naming it', async () => {
    await expect(
      archive().ensureUser({ name: "x' OR '1'='1", password: 'p'.repeat(16), role: 'reader' }),
    ).rejects.toThrow(/name/);
    await expect(archive().ensureUser({ name: 'ok_name', password: 'short', role: 'reader' })).rejects.toThrow(
      /password/,
    );
  });
});
