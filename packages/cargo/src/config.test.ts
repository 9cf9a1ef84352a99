import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config';
import { envBool, envChannel, envChannels, envEnum, envInt, envUrl } from './env-schema';

const schema = z.object({
  REDIS_URL: envUrl({ default: 'redis://localhost:6379', protocols: ['redis', 'rediss'] }),
  ARCHIVER_BATCH_SIZE: envInt({ default: 100, min: 1, max: 10_000 }),
  ARCHIVER_DRY_RUN: envBool({ default: false }),
  LOG_FORMAT: envEnum(['json', 'pretty'], 'json'),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters'),
});

function problemsOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cargo-config-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses, applies defaults for absent variables, and freezes the result', () => {
    const config = loadConfig(schema, { ADMIN_PASSWORD: 'correct horse battery', ARCHIVER_DRY_RUN: 'YES' });
    expect(config).toEqual({
      REDIS_URL: 'redis://localhost:6379',
      ARCHIVER_BATCH_SIZE: 100,
      ARCHIVER_DRY_RUN: true,
      LOG_FORMAT: 'json',
      ADMIN_PASSWORD: 'correct horse battery',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { ARCHIVER_BATCH_SIZE: number }).ARCHIVER_BATCH_SIZE = 5;
    }).toThrow(TypeError);
  });

  it('freezes nested values too', () => {
    const nested = z.object({ TAGS: z.string().transform((value) => ({ list: value.split(',') })) });
    const config = loadConfig(nested, { TAGS: 'a,b' });
    expect(Object.isFrozen(config.TAGS)).toBe(true);
    expect(Object.isFrozen(config.TAGS.list)).toBe(true);
  });

  it('lists every bad variable in one error', () => {
    const error = problemsOf(() =>
      loadConfig(schema, {
        REDIS_URL: 'not a url',
        ARCHIVER_BATCH_SIZE: '12abc',
        ARCHIVER_DRY_RUN: 'maybe',
        LOG_FORMAT: 'xml',
      }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual([
      'ADMIN_PASSWORD',
      'ARCHIVER_BATCH_SIZE',
      'ARCHIVER_DRY_RUN',
      'LOG_FORMAT',
      'REDIS_URL',
    ]);
    const lines = error.message.split('\n');
    expect(lines).toContain('REDIS_URL: Invalid URL');
    expect(lines).toContain('ARCHIVER_BATCH_SIZE: must be an integer');
    expect(lines).toContain('ADMIN_PASSWORD: is required');
    expect(lines).toContain('LOG_FORMAT: must be one of json, pretty');
  });

  it('reports an invalid value instead of falling back to the default', () => {
    const error = problemsOf(() =>
      loadConfig(schema, { ADMIN_PASSWORD: 'correct horse battery', ARCHIVER_BATCH_SIZE: '0' }),
    );
    expect(error.problems).toEqual([{ variable: 'ARCHIVER_BATCH_SIZE', message: 'must be at least 1' }]);
  });

  it('treats an empty value as absent (compose passes unset host variables as "")', () => {
    const config = loadConfig(schema, { ADMIN_PASSWORD: 'correct horse battery', ARCHIVER_BATCH_SIZE: '' });
    expect(config.ARCHIVER_BATCH_SIZE).toBe(100);
  });

  it('reads K from the file named by K_FILE, without one trailing newline', () => {
    const file = join(dir, 'admin-password');
    writeFileSync(file, 'from the secret file\n\n');
    const config = loadConfig(schema, { ADMIN_PASSWORD_FILE: file });
    expect(config.ADMIN_PASSWORD).toBe('from the secret file\n');
  });

  it('refuses K and K_FILE together', () => {
    const file = join(dir, 'both');
    writeFileSync(file, 'from the secret file');
    const error = problemsOf(() =>
      loadConfig(schema, { ADMIN_PASSWORD: 'correct horse battery', ADMIN_PASSWORD_FILE: file }),
    );
    expect(error.problems).toEqual([
      { variable: 'ADMIN_PASSWORD', message: 'set either ADMIN_PASSWORD or ADMIN_PASSWORD_FILE, not both' },
    ]);
  });

  it('names the variable and path of an unreadable file, alongside the other problems', () => {
    const missing = join(dir, 'does-not-exist');
    const error = problemsOf(() => loadConfig(schema, { ADMIN_PASSWORD_FILE: missing, ARCHIVER_BATCH_SIZE: '1.5' }));
    expect(error.problems).toEqual([
      { variable: 'ADMIN_PASSWORD_FILE', message: `cannot read file ${missing} (ENOENT)` },
      { variable: 'ARCHIVER_BATCH_SIZE', message: 'must be an integer' },
    ]);
  });

  it('never shows the value of a secret, from the environment or from a file', () => {
    const quoting = z.object({
      // a schema whose own message quotes its input: the loader must still hide a secret value
      API_TOKEN: z
        .string()
        .refine((value) => value.startsWith('tok_'), { error: (issue) => `bad token ${String(issue.input)}` }),
      SESSION_SECRET: z.string().min(40),
      DB_PASSWORD: z.string().refine(() => false, { error: (issue) => `rejected ${String(issue.input)}` }),
    });
    const file = join(dir, 'db-password');
    writeFileSync(file, 'hunter2-from-file\n');
    const error = problemsOf(() =>
      loadConfig(quoting, { API_TOKEN: 'sk-live-abcdef', SESSION_SECRET: 'too-short-secret', DB_PASSWORD_FILE: file }),
    );
    expect(error.problems.map((problem) => problem.variable)).toEqual(['API_TOKEN', 'SESSION_SECRET', 'DB_PASSWORD']);
    for (const secret of ['sk-live-abcdef', 'too-short-secret', 'hunter2-from-file']) {
      expect(error.message).not.toContain(secret);
      expect(JSON.stringify(error.problems)).not.toContain(secret);
    }
  });

  it('reports a file it may not read without its contents', () => {
    if (process.getuid?.() === 0) {
      // root reads any file: the permission case cannot be produced, the ENOENT case covers the path
      const error = problemsOf(() => loadConfig(schema, { ADMIN_PASSWORD_FILE: dir }));
      expect(error.problems[0]).toEqual({
        variable: 'ADMIN_PASSWORD_FILE',
        message: `cannot read file ${dir} (EISDIR)`,
      });
      return;
    }
    const file = join(dir, 'locked');
    writeFileSync(file, 'locked-secret-value');
    chmodSync(file, 0o000);
    const error = problemsOf(() => loadConfig(schema, { ADMIN_PASSWORD_FILE: file }));
    expect(error.problems[0]).toEqual({
      variable: 'ADMIN_PASSWORD_FILE',
      message: `cannot read file ${file} (EACCES)`,
    });
    expect(error.message).not.toContain('locked-secret-value');
  });

  it('ignores variables the schema does not name', () => {
    const config = loadConfig(z.object({ PORT: envInt({ default: 8080 }) }), { PORT: '9090', OTHER: 'x' });
    expect(config).toEqual({ PORT: 9090 });
  });
});

describe('env schema helpers', () => {
  const parse = <T>(schema: z.ZodType<T, string | undefined>, value: string | undefined) => schema.safeParse(value);

  it('envInt accepts whole decimal numbers only', () => {
    const int = envInt({ min: -5, max: 10 });
    expect(parse(int, '7').data).toBe(7);
    expect(parse(int, ' -3 ').data).toBe(-3);
    for (const bad of ['12abc', '1.5', '1e1', '', 'abc', '0x1']) {
      expect(parse(int, bad).success).toBe(false);
    }
    expect(parse(int, '11').error?.issues[0]?.message).toBe('must be at most 10');
    expect(parse(int, undefined).error?.issues[0]?.message).toBe('is required');
    expect(parse(envInt({ default: 4 }), undefined).data).toBe(4);
    expect(parse(envInt(), '9007199254740993').success).toBe(false);
  });

  it('envBool accepts true/false, 1/0, yes/no in any case', () => {
    const bool = envBool();
    for (const yes of ['true', 'TRUE', '1', 'yes', 'Yes']) {
      expect(parse(bool, yes).data).toBe(true);
    }
    for (const no of ['false', '0', 'no', 'NO']) {
      expect(parse(bool, no).data).toBe(false);
    }
    expect(parse(bool, 'on').success).toBe(false);
    expect(parse(envBool({ default: true }), undefined).data).toBe(true);
    expect(parse(envBool({ default: true }), 'nope').success).toBe(false);
  });

  it('envUrl checks the scheme and keeps the string', () => {
    const url = envUrl({ protocols: ['redis', 'rediss:'] });
    expect(parse(url, 'rediss://:pw@cache:6380/1').data).toBe('rediss://:pw@cache:6380/1');
    expect(parse(url, 'http://cache').error?.issues[0]?.message).toBe('URL scheme must be one of redis: rediss:');
    expect(parse(url, 'cache:6379x').success).toBe(false);
    expect(parse(url, 'not a url').error?.issues[0]?.message).toBe('Invalid URL');
  });

  it('envEnum accepts the listed values exactly', () => {
    const level = envEnum(['info', 'debug'], 'info');
    expect(parse(level, 'debug').data).toBe('debug');
    expect(parse(level, undefined).data).toBe('info');
    expect(parse(level, 'DEBUG').success).toBe(false);
    expect(parse(envEnum(['a', 'b']), undefined).error?.issues[0]?.message).toBe('is required');
  });

  it('envChannel and envChannels take the broker’s channel rule, naming it', () => {
    expect(parse(envChannel('logs'), undefined).data).toBe('logs');
    expect(parse(envChannel(), ' audit ').data).toBe('audit');
    expect(parse(envChannel(), 'Bad Channel').error?.issues[0]?.message).toBe(
      'a channel name: 1-48 chars of a-z 0-9 . _ -, starting with a letter or digit',
    );
    // 48 is the broker's limit (`<channel>.dead` must still fit the envelope), not 64
    expect(parse(envChannel(), 'a'.repeat(48)).success).toBe(true);
    expect(parse(envChannel(), 'a'.repeat(49)).success).toBe(false);
    const list = envChannels(['logs', 'events']);
    expect(parse(list, undefined).data).toEqual(['logs', 'events']);
    expect(parse(list, 'logs, events ,audit').data).toEqual(['logs', 'events', 'audit']);
    expect(parse(list, 'logs,logs').error?.issues[0]?.message).toBe('channel names must be unique');
    expect(parse(list, 'logs,-x').error?.issues[0]).toMatchObject({
      path: [1],
      message: expect.stringMatching(/^channel names: 1-48/),
    });
    expect(parse(list, 'logs,').success).toBe(false);
  });
});
