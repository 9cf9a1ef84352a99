import { createHash, randomBytes } from 'node:crypto';

/** Every token starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'mpt_';

const TOKEN_RE = /^mpt_[A-Za-z0-9_-]{43}$/;

/** A new token: `mpt_` and 32 random bytes in base64url (43 characters). */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** True when `value` has a token's shape (checked before any lookup: junk never reaches Redis). */
export function isTokenShaped(value: string): boolean {
  return TOKEN_RE.test(value);
}

/**
 * The stored form of a token: its SHA-256, hex. A password needs a slow, salted hash (argon2, as the
 * admin password has) because people choose guessable ones; a token is 256 random bits, so there is
 * nothing to guess and no dictionary to precompute: a fast hash is as safe, and it lets every
 * request be checked by one lookup of the hash. Whoever reads the store learns no usable token.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
