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

/** The rule of a user name, for the services that take one from their settings. */
export const USER_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const USER_NAME_RULE = 'letters, digits and _, starting with a letter; at most 64';
export const USER_PASSWORD_MIN = 12;

/**
 * Creates the user, or sets its password and role when it exists (so rotating the password is:
 * change the secret, restart the service that ensures it, then the one that logs in with it).
 * Values travel as parameters; OrientDB hashes the password when it stores it.
 */
export async function ensureUser(conn: OrientConnection, user: ArchiveUser): Promise<void> {
  // a configuration mistake, not a query: the password itself is never in the message
  if (!USER_NAME_PATTERN.test(user.name)) {
    throw new RangeError(`user name must be ${USER_NAME_RULE}; got ${JSON.stringify(user.name)}`);
  }
  if (user.password.length < USER_PASSWORD_MIN) {
    throw new RangeError(`user password must be at least ${USER_PASSWORD_MIN} characters (user ${user.name})`);
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
