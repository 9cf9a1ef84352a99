import type { OrientConnection } from './connection';

/** A user of the archive's database, for a service that should not log in as the server's root. */
export interface ArchiveUser {
  /** Letters, digits and `_`, starting with a letter; at most 64. */
  name: string;
  /** At least 12 characters. OrientDB stores it hashed. */
  password: string;
  /** OrientDB's built-in database role: `reader` reads every class, `writer` also writes. */
  role: 'reader' | 'writer';
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MIN_PASSWORD = 12;

/**
 * Creates the user, or sets its password and role when it exists (so rotating the password is:
 * change the secret, restart the service that ensures it, then the one that logs in with it).
 * Values travel as parameters; OrientDB hashes the password when it stores it.
 */
export async function ensureUser(conn: OrientConnection, user: ArchiveUser): Promise<void> {
  // a configuration mistake, not a query: the password itself is never in the message
  if (!NAME.test(user.name)) {
    throw new RangeError(
      `user name must be letters, digits and _, starting with a letter, at most 64; got ${JSON.stringify(user.name)}`,
    );
  }
  if (user.password.length < MIN_PASSWORD) {
    throw new RangeError(`user password must be at least ${MIN_PASSWORD} characters (user ${user.name})`);
  }
  if (user.role !== 'reader' && user.role !== 'writer') {
    throw new RangeError(`user role must be reader or writer; got ${JSON.stringify(user.role)}`);
  }
  await conn.command(
    "UPDATE OUser SET password = :password, status = 'ACTIVE', roles = (SELECT FROM ORole WHERE name = :role) " +
      'UPSERT WHERE name = :name',
    { name: user.name, password: user.password, role: user.role },
  );
}
