import { ConfigError } from '@mupets/cargo';
import { loadAdminConfig } from './config';

const minimal = { ORIENTDB_PASSWORD: 's3cret-orient' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadAdminConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems.map((p) => `${p.variable}: ${p.message}`);
    }
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAdminConfig', () => {
  test('defaults: only ORIENTDB_PASSWORD is required', () => {
    const config = loadAdminConfig(minimal);
    expect(config).toMatchObject({
      BROKER: 'redis',
      REDIS_URL: 'redis://redis:6379',
      ADMIN_PORT: 8080,
      ADMIN_HOST: '0.0.0.0',
      ADMIN_DATA_DIR: '/data',
      ADMIN_COOKIE_SECURE: false,
      ADMIN_SESSION_TTL_MS: 8 * 3_600_000,
      ADMIN_BODY_LIMIT: '256kb',
      ADMIN_CHANNELS: ['logs', 'events', 'audit'],
      DOCKER_SOCKET: '/var/run/docker.sock',
      ADMIN_UI_WATCH: false,
      LOG_LEVEL: 'info',
      SHUTDOWN_DEADLINE_MS: 15_000,
    });
    expect(config.ADMIN_PASSWORD_FILE).toBeUndefined();
    expect(config.ADMIN_COMPOSE_PROJECT).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('the session cookie is Secure by default in production, and can be set either way', () => {
    expect(loadAdminConfig({ ...minimal, NODE_ENV: 'production' }).ADMIN_COOKIE_SECURE).toBe(true);
    expect(
      loadAdminConfig({ ...minimal, NODE_ENV: 'production', ADMIN_COOKIE_SECURE: 'false' }).ADMIN_COOKIE_SECURE,
    ).toBe(false);
    expect(loadAdminConfig({ ...minimal, ADMIN_COOKIE_SECURE: 'true' }).ADMIN_COOKIE_SECURE).toBe(true);
  });

  test('values are parsed: channels, sizes, numbers, URLs', () => {
    const config = loadAdminConfig({
      ...minimal,
      ADMIN_CHANNELS: 'logs, events ,audit',
      ADMIN_BODY_LIMIT: '1MB',
      ADMIN_PORT: '9000',
      ADMIN_STUDIO_URL: 'http://localhost:2480/studio/index.html',
      ADMIN_COMPOSE_PROJECT: 'mupets',
      ADMIN_PASSWORD_FILE: '/run/secrets/admin_password',
      BROKER: 'kafka',
    });
    expect(config.ADMIN_CHANNELS).toEqual(['logs', 'events', 'audit']);
    expect(config.ADMIN_BODY_LIMIT).toBe('1mb');
    expect(config.ADMIN_PORT).toBe(9000);
    expect(config.ADMIN_PASSWORD_FILE).toBe('/run/secrets/admin_password');
    expect(config.BROKER).toBe('kafka');
  });

  test('every problem is listed at once, and no secret value is echoed', () => {
    const problems = problemsOf({
      ORIENTDB_PASSWORD: '',
      ADMIN_PORT: '80x',
      ADMIN_CHANNELS: 'logs,Bad Channel',
      ADMIN_BODY_LIMIT: 'lots',
      ADMIN_SESSION_TTL_MS: '5',
      ADMIN_STUDIO_URL: 'ftp://studio',
      ADMIN_COMPOSE_PROJECT: 'Not A Project',
      ADMIN_COOKIE_SECURE: 'maybe',
      BROKER: 'rabbit',
    });
    const variables = problems.map((p) => p.split(':')[0]);
    expect(variables.sort()).toEqual(
      [
        'ORIENTDB_PASSWORD',
        'ADMIN_PORT',
        'ADMIN_CHANNELS',
        'ADMIN_BODY_LIMIT',
        'ADMIN_SESSION_TTL_MS',
        'ADMIN_STUDIO_URL',
        'ADMIN_COMPOSE_PROJECT',
        'ADMIN_COOKIE_SECURE',
        'BROKER',
      ].sort(),
    );
  });

  test('duplicate channels are an error', () => {
    expect(problemsOf({ ...minimal, ADMIN_CHANNELS: 'logs,logs' })).toEqual([
      'ADMIN_CHANNELS: channel names must be unique',
    ]);
  });

  test('ORIENTDB_PASSWORD may come from a file (Docker secret), never both', () => {
    const readFile = (path: string) => (path === '/run/secrets/orient' ? 'from-file\n' : '');
    expect(loadAdminConfig({ ORIENTDB_PASSWORD_FILE: '/run/secrets/orient' }, { readFile }).ORIENTDB_PASSWORD).toBe(
      'from-file',
    );
    expect(() =>
      loadAdminConfig({ ORIENTDB_PASSWORD: 'x', ORIENTDB_PASSWORD_FILE: '/run/secrets/orient' }, { readFile }),
    ).toThrow(/not both/);
  });

  test('ADMIN_TRUST_PROXY: false by default; hops; a list of addresses and subnets; never true or junk', () => {
    expect(loadAdminConfig(minimal).ADMIN_TRUST_PROXY).toBe(false);
    expect(loadAdminConfig({ ...minimal, ADMIN_TRUST_PROXY: '1' }).ADMIN_TRUST_PROXY).toBe(1);
    expect(loadAdminConfig({ ...minimal, ADMIN_TRUST_PROXY: '10.0.0.0/8, loopback' }).ADMIN_TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      'loopback',
    ]);
    for (const bad of ['true', 'proxy.example', '10.0.0.300']) {
      expect(problemsOf({ ...minimal, ADMIN_TRUST_PROXY: bad })).toEqual([
        expect.stringMatching(/^ADMIN_TRUST_PROXY: false, a number of proxy hops/),
      ]);
    }
  });
});
