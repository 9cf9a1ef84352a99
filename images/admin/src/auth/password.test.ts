import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, INITIAL_PASSWORD_FILE, resolvePasswordHash, verifyPassword } from './password';

describe('resolvePasswordHash', () => {
  let dir: string;
  const lines: string[] = [];
  const logger = {
    info: (message: string, meta?: Record<string, unknown>) => lines.push(JSON.stringify({ message, meta })),
    warn: (message: string, meta?: Record<string, unknown>) => lines.push(JSON.stringify({ message, meta })),
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'admin-password-'));
    lines.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a plain password in ADMIN_PASSWORD_FILE is hashed (argon2id)', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'plain password\n');
    const hash = await resolvePasswordHash({ passwordFile: file, dataDir: dir, logger });
    expect(hash).toMatch(/^\$argon2id\$/);
    await expect(verifyPassword(hash, 'plain password')).resolves.toBe(true);
    await expect(verifyPassword(hash, 'plain password\n')).resolves.toBe(false);
  });

  test('an argon2 hash in the file is used as it is', async () => {
    const hash = await hashPassword('hashed one');
    const file = join(dir, 'pw');
    writeFileSync(file, `${hash}\n`);
    await expect(resolvePasswordHash({ passwordFile: file, dataDir: dir, logger })).resolves.toBe(hash);
  });

  test('an empty or missing file stops the start', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, '\n');
    await expect(resolvePasswordHash({ passwordFile: file, dataDir: dir, logger })).rejects.toThrow(/empty/);
    await expect(resolvePasswordHash({ passwordFile: join(dir, 'none'), dataDir: dir, logger })).rejects.toThrow(
      /ENOENT/,
    );
  });

  test('first run: a random password in <data>/initial-password (0600), only its path logged; reused later', async () => {
    const data = join(dir, 'data');
    const hash = await resolvePasswordHash({ dataDir: data, logger });
    const file = join(data, INITIAL_PASSWORD_FILE);
    const password = readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(verifyPassword(hash, password)).resolves.toBe(true);
    expect(lines.join('\n')).toContain(file);
    expect(lines.join('\n')).not.toContain(password);

    const again = await resolvePasswordHash({ dataDir: data, logger });
    await expect(verifyPassword(again, password)).resolves.toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(password);
  });

  test('a malformed hash never verifies', async () => {
    await expect(verifyPassword('$argon2id$garbage', 'x')).resolves.toBe(false);
  });
});
