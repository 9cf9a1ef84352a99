import { safeEqual, SessionStore } from './session-store';

describe('SessionStore', () => {
  let now = 0;
  const store = () => new SessionStore({ ttlMs: 1000, maxSessions: 3, now: () => now });

  beforeEach(() => {
    now = 1_000_000;
  });

  test('a new session has random, distinct, URL-safe id and CSRF token', () => {
    const sessions = store();
    const a = sessions.create();
    const b = sessions.create();
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([a.id, b.id, a.csrfToken, b.csrfToken]).size).toBe(4);
    expect(a.expiresAt).toBe(now + 1000);
  });

  test('use restarts the idle timer; an idle session expires', () => {
    const sessions = store();
    const session = sessions.create();
    now += 900;
    expect(sessions.touch(session.id)).toBe(session);
    expect(session.expiresAt).toBe(now + 1000);
    now += 999;
    expect(sessions.touch(session.id)).toBe(session);
    now += 1000;
    expect(sessions.touch(session.id)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  test('a session ends at its absolute lifetime however busy it is', () => {
    const sessions = new SessionStore({ ttlMs: 1000, maxAgeMs: 2500, maxSessions: 3, now: () => now });
    const session = sessions.create();
    for (let step = 0; step < 4; step++) {
      now += 600;
      expect(sessions.touch(session.id)).toBe(session);
    }
    // never past created + maxAge, even right after use
    expect(session.expiresAt).toBe(1_000_000 + 2500);
    now = 1_000_000 + 2500;
    expect(sessions.touch(session.id)).toBeUndefined();
  });

  test('peek (a background poll) finds the session without restarting its idle timer', () => {
    const sessions = store();
    const session = sessions.create();
    now += 900;
    expect(sessions.peek(session.id)).toBe(session);
    expect(session.expiresAt).toBe(1_000_000 + 1000);
    now += 100;
    expect(sessions.peek(session.id)).toBeUndefined();
    expect(sessions.touch(session.id)).toBeUndefined();
  });

  test('the cap drops the least recently used session', () => {
    const sessions = store();
    const [a, b, c] = [sessions.create(), sessions.create(), sessions.create()];
    sessions.touch(a.id);
    const d = sessions.create();
    expect(sessions.size).toBe(3);
    expect(sessions.touch(b.id)).toBeUndefined();
    for (const kept of [a, c, d]) {
      expect(sessions.touch(kept.id)).toBe(kept);
    }
  });

  test('expired sessions are swept when a new one is made', () => {
    const sessions = store();
    sessions.create();
    sessions.create();
    now += 5000;
    sessions.create();
    expect(sessions.size).toBe(1);
  });

  test('destroy and unknown ids', () => {
    const sessions = store();
    const session = sessions.create();
    sessions.destroy(session.id);
    expect(sessions.touch(session.id)).toBeUndefined();
    expect(sessions.touch('nope')).toBeUndefined();
  });
});

describe('safeEqual', () => {
  test('equal strings only', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
  });
});
