import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import argon2 from 'argon2';

/** The name of the first-run password file inside the data directory. */
export const INITIAL_PASSWORD_FILE = 'initial-password';

export interface PasswordSource {
  /** `ADMIN_PASSWORD_FILE`: holds the password or its argon2 hash. */
  passwordFile?: string | undefined;
  /** `ADMIN_DATA_DIR`: where the first-run password is written when no file is configured. */
  dataDir: string;
  logger: {
    info(message: string, meta?: Record<string, unknown>): unknown;
    warn(message: string, meta?: Record<string, unknown>): unknown;
  };
}

/**
 * The argon2 hash the login checks against; the only form in which the password stays in memory.
 * - `passwordFile` set: its content (one trailing newline dropped) is an argon2 hash, used as is, or
 *   a plain password, hashed now;
 * - unset: the password in `<dataDir>/initial-password`, created on first start with a random
 *   password (mode 0600) - only the file's path is logged, never the password.
 */
export async function resolvePasswordHash(source: PasswordSource): Promise<string> {
  if (source.passwordFile) {
    const content = stripNewline(await readFile(source.passwordFile, 'utf8'));
    if (content.length === 0) {
      throw new Error(`ADMIN_PASSWORD_FILE ${source.passwordFile} is empty`);
    }
    if (content.startsWith('$argon2')) {
      return content;
    }
    if (content.length < 8) {
      source.logger.warn('admin password is shorter than 8 characters', { file: source.passwordFile });
    }
    return hashPassword(content);
  }
  const path = join(source.dataDir, INITIAL_PASSWORD_FILE);
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      return undefined;
    }
    throw error;
  });
  if (existing !== undefined && stripNewline(existing).length > 0) {
    source.logger.info('admin password from the first-run file', { file: path });
    return hashPassword(stripNewline(existing));
  }
  const generated = randomBytes(18).toString('base64url');
  await mkdir(source.dataDir, { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a file another process wrote meanwhile
  await writeFile(path, `${generated}\n`, { mode: 0o600, flag: 'wx' });
  source.logger.warn('no ADMIN_PASSWORD_FILE: generated an admin password; read it from the file', { file: path });
  return hashPassword(generated);
}

/** argon2id with the library's defaults (memory-hard; about 50 ms). */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

/** True when `password` matches `hash`; a malformed hash counts as no match. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
