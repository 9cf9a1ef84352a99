import { randomBytes } from 'node:crypto';
import { ArchiveUnavailableError, createArchive, type Archive } from '@mupets/archive';
import { orientDbServerConfig, redisUrl, testDatabase, testPrefix } from '@mupets/testkit';
import { startArchiverProcess, type ArchiverProcess } from './helpers';

const running: ArchiverProcess[] = [];
const opened: Archive[] = [];
afterAll(async () => {
  await Promise.all([...running.map((p) => p.kill('SIGKILL')), ...opened.map((a) => a.close())]);
});

test('ORIENTDB_READER_USER: the archiver keeps a reader for the admin, its password set at every start', async () => {
  const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  const prefix = testPrefix(__filename);
  const reader = (password: string): Archive => {
    const archive = createArchive({ ...orient, username: 'stack_reader', password, createDatabase: false });
    opened.push(archive);
    return archive;
  };
  const first = randomBytes(12).toString('hex');
  const second = randomBytes(12).toString('hex');

  const archiver = await startArchiverProcess(redisUrl(), prefix, orient, {
    ORIENTDB_READER_USER: 'stack_reader',
    ORIENTDB_READER_PASSWORD: first,
  });
  running.push(archiver);
  expect(archiver.output()).toContain('"message":"archive reader user ready"');
  expect(archiver.output()).not.toContain(first);
  expect((await reader(first).search({})).records).toEqual(expect.any(Array));
  await archiver.kill('SIGTERM');

  // rotation: a new secret, the archiver restarted; the old password is refused
  const restarted = await startArchiverProcess(redisUrl(), prefix, orient, {
    ORIENTDB_READER_USER: 'stack_reader',
    ORIENTDB_READER_PASSWORD: second,
  });
  running.push(restarted);
  await reader(second).ping();
  await expect(reader(first).ping()).rejects.toThrow(ArchiveUnavailableError);
});

test('ORIENTDB_READER_USER without its password is a configuration error, named', async () => {
  const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  const archiver = await startArchiverProcess(
    redisUrl(),
    testPrefix(__filename),
    orient,
    { ORIENTDB_READER_USER: 'stack_reader' },
    { waitReady: false },
  );
  running.push(archiver);
  const exit = await archiver.exited;
  expect(exit.code).not.toBe(0);
  expect(archiver.output()).toContain('ORIENTDB_READER_PASSWORD');
  expect(archiver.output()).toContain('required with ORIENTDB_READER_USER');
});
