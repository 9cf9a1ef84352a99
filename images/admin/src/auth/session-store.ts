import { randomBytes, timingSafeEqual } from 'node:crypto';

/** One logged-in browser. */
export interface Session {
  /** The opaque cookie value. */
  readonly id: string;
  /** The token mutating requests must echo in `X-CSRF-Token`. */
  readonly csrfToken: string;
  /** When the session ends unless used again (ms since the epoch); never after `endsAt`. */
  expiresAt: number;
  /** When the session ends however busy it is: its absolute lifetime (ms since the epoch). */
  readonly endsAt: number;
}

export interface SessionStoreOptions {
  /** A session unused this long ends. */
  ttlMs: number;
  /** A session ends this long after login, used or not. Default: no absolute lifetime. */
  maxAgeMs?: number;
  /** Sessions held at once; creating one more drops the least recently used. */
  maxSessions: number;
  /** The clock; tests pass their own. Default `Date.now`. */
  now?: () => number;
}

/**
 * Sessions in memory: a restart logs everyone out, which is what a single admin process wants
 * (no session secret to manage, nothing to leak from a store). A Map keeps insertion order, and a
 * used session is moved to the end, so the first entry is always the least recently used.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;

  constructor(private readonly options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session with fresh random id and CSRF token. */
  create(): Session {
    this.sweep();
    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      this.sessions.delete(oldest);
    }
    const now = this.now();
    const endsAt = now + (this.options.maxAgeMs ?? Number.POSITIVE_INFINITY);
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: Math.min(now + this.options.ttlMs, endsAt),
      endsAt,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, its idle timer restarted; undefined when unknown or expired. */
  touch(id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (!session) {
      return undefined;
    }
    const now = this.now();
    this.sessions.delete(id);
    if (session.expiresAt <= now) {
      return undefined;
    }
    session.expiresAt = Math.min(now + this.options.ttlMs, session.endsAt);
    this.sessions.set(id, session);
    return session;
  }

  /**
   * The live session with this id, its idle timer left as it is: for requests the browser makes
   * by itself (background polls), which must not keep an abandoned session alive.
   */
  peek(id: string): Session | undefined {
    const session = this.sessions.get(id);
    return session && session.expiresAt > this.now() ? session : undefined;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }

  /** Drops expired sessions (the oldest are first, so it stops at the first live one). */
  private sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) {
      if (session.expiresAt > now) {
        break;
      }
      this.sessions.delete(id);
    }
  }
}

/** Compares two secrets in constant time (for equal lengths; a length difference returns false at once). */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
