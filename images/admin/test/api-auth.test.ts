import supertest from 'supertest';
import { waitFor } from '@mupets/testkit';
import { bodyOf, errorOf, fieldsOf, startTestAdmin, TEST_PASSWORD, type TestAdmin } from './helpers';

let admin: TestAdmin;

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
});

afterAll(async () => {
  await admin.close();
});

async function auditActions(): Promise<string[]> {
  const entries = await admin.broker.range('audit', { count: 1000 });
  return entries.filter((e) => e.envelope.type === 'admin.audit').map((e) => String(e.envelope.data?.action));
}

describe('login', () => {
  test('the right password: 204, an httpOnly SameSite=Strict session cookie, and an audit event', async () => {
    const answer = await supertest(admin.app).post('/api/login').send({ password: TEST_PASSWORD });
    expect(answer.status).toBe(204);
    const cookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).join('\n');
    expect(cookie).toMatch(/^mupets_admin=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // ADMIN_COOKIE_SECURE=false in tests
    await waitFor(async () => (await auditActions()).includes('login'), { what: 'login audit event' });
  });

  test('a wrong password: 401 unauthenticated, no cookie, a login.failed audit event without the password', async () => {
    const answer = await supertest(admin.app).post('/api/login').send({ password: 'hunter2-wrong' });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: 'unauthenticated', message: 'wrong password' } });
    expect(answer.headers['set-cookie']).toBeUndefined();
    await waitFor(async () => (await auditActions()).includes('login.failed'), { what: 'login.failed audit' });
    const raw = JSON.stringify(await admin.broker.range('audit', { count: 1000 }));
    expect(raw).not.toContain('hunter2-wrong');
    expect(raw).not.toContain(TEST_PASSWORD);
    expect(admin.logs()).not.toContain('hunter2-wrong');
    expect(admin.logs()).not.toContain(TEST_PASSWORD);
  });

  test.each([
    ['no body', undefined, 'password'],
    ['a number', { password: 12345 }, 'password'],
    ['an empty string', { password: '' }, 'password'],
    ['an unknown field', { password: 'x', admin: true }, 'admin'],
    ['an injection string', { password: { $ne: null } }, 'password'],
  ])('%s: 400 naming the field', async (_name, body, field) => {
    const request = supertest(admin.app).post('/api/login');
    const answer = await (body === undefined ? request : request.send(body));
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('invalid_input');
    expect(fieldsOf(answer)).toContain(field);
  });

  test('malformed JSON: 400; an oversized body: 413', async () => {
    const bad = await supertest(admin.app)
      .post('/api/login')
      .set('content-type', 'application/json')
      .send('{"password": ');
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'invalid_input', issues: [{ field: 'body', rule: 'json' }] });
    const big = await supertest(admin.app)
      .post('/api/login')
      .send({ password: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(errorOf(big).code).toBe('body_too_large');
  });

  test('the session: GET /api/session gives the CSRF token and expiry; logout ends it', async () => {
    const { agent, csrfToken } = await admin.login();
    const session = await agent.get('/api/session');
    expect(session.status).toBe(200);
    expect(bodyOf<{ csrfToken: string }>(session).csrfToken).toBe(csrfToken);
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(Date.parse(bodyOf<{ expiresAt: string }>(session).expiresAt)).toBeGreaterThan(Date.now());

    expect((await agent.post('/api/logout')).status).toBe(403); // no CSRF token
    const out = await agent.post('/api/logout').set('x-csrf-token', csrfToken);
    expect(out.status).toBe(204);
    expect((await agent.get('/api/session')).status).toBe(401);
    await waitFor(async () => (await auditActions()).includes('logout'), { what: 'logout audit' });
  });

  test('a background poll (x-mupets-background: 1) does not restart the idle timer; the session still answers it', async () => {
    const { agent } = await admin.login();
    const first = bodyOf<{ expiresAt: string }>(await agent.get('/api/session').set('x-mupets-background', '1'));
    await waitFor(() => Date.now() > Date.parse(first.expiresAt) - admin.config.ADMIN_SESSION_TTL_MS + 5, {
      what: 'the clock past the login',
    });
    const polled = await agent.get('/api/status').set('x-mupets-background', '1');
    expect(polled.status).toBe(200);
    const again = bodyOf<{ expiresAt: string }>(await agent.get('/api/session').set('x-mupets-background', '1'));
    expect(again.expiresAt).toBe(first.expiresAt);
  });

  test('a forged or stale cookie is no session', async () => {
    const answer = await supertest(admin.app).get('/api/session').set('cookie', 'mupets_admin=forged');
    expect(answer.status).toBe(401);
    expect(errorOf(answer).code).toBe('unauthenticated');
  });

  test('a wrong CSRF token: 403 csrf', async () => {
    const { agent, csrfToken } = await admin.login();
    const answer = await agent
      .post('/api/events')
      .set('x-csrf-token', `${csrfToken.slice(0, -1)}x`)
      .send({ type: 'x' });
    expect(answer.status).toBe(403);
    expect(errorOf(answer).code).toBe('csrf');
  });

  test('health is public', async () => {
    expect((await supertest(admin.app).get('/healthz')).status).toBe(200);
    const ready = await supertest(admin.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(bodyOf(ready)).toEqual({ status: 'ready', checks: { broker: { ok: true }, archive: { ok: true } } });
  });
});

describe('login rate limit', () => {
  let limited: TestAdmin;
  beforeAll(async () => {
    limited = await startTestAdmin({ file: __filename, env: { ADMIN_LOGIN_RATE_LIMIT: '3' } });
  });
  afterAll(async () => {
    await limited.close();
  });

  test('after 3 failed attempts a minute: 429 rate_limited with Retry-After, even for the right password', async () => {
    for (let i = 0; i < 3; i++) {
      expect(
        (
          await supertest(limited.app)
            .post('/api/login')
            .send({ password: `wrong ${i}` })
        ).status,
      ).toBe(401);
    }
    const blocked = await supertest(limited.app).post('/api/login').send({ password: TEST_PASSWORD });
    expect(blocked.status).toBe(429);
    expect(errorOf(blocked).code).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('login rate limit behind a reverse proxy (ADMIN_TRUST_PROXY)', () => {
  let proxied: TestAdmin;
  beforeAll(async () => {
    proxied = await startTestAdmin({
      file: `${__filename}-proxy`,
      env: { ADMIN_LOGIN_RATE_LIMIT: '3', ADMIN_TRUST_PROXY: '1' },
    });
  });
  afterAll(async () => {
    await proxied.close();
  });

  /** A login as the proxy sends it: from the proxy's address, the client's in X-Forwarded-For. */
  const loginVia = (client: string, password: string) =>
    supertest(proxied.app).post('/api/login').set('x-forwarded-for', client).send({ password });

  test("one client's failed attempts do not lock out another: the right password from elsewhere gets in", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await loginVia('203.0.113.7', `wrong ${i}`)).status).toBe(401);
    }
    expect((await loginVia('203.0.113.7', 'wrong again')).status).toBe(429);
    // the guesser is limited, the user at another address is not
    expect((await loginVia('198.51.100.9', TEST_PASSWORD)).status).toBe(204);
    expect((await loginVia('198.51.100.10', 'a typo')).status).toBe(401);
    expect(proxied.logs()).toContain('203.0.113.7');
  });
});

test('without ADMIN_TRUST_PROXY an X-Forwarded-For header is not believed (it cannot dodge the limit)', async () => {
  const direct = await startTestAdmin({ file: `${__filename}-direct`, env: { ADMIN_LOGIN_RATE_LIMIT: '2' } });
  try {
    const loginAs = (client: string) =>
      supertest(direct.app).post('/api/login').set('x-forwarded-for', client).send({ password: 'wrong' });
    expect((await loginAs('203.0.113.1')).status).toBe(401);
    expect((await loginAs('203.0.113.2')).status).toBe(401);
    expect((await loginAs('203.0.113.3')).status).toBe(429);
  } finally {
    await direct.close();
  }
});
