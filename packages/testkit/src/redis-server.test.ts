import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertRedisInstalled } from './redis-server';

test('a missing redis-server fails at once with the command that installs it', () => {
  const emptyPath = mkdtempSync(join(tmpdir(), 'empty-path-'));
  expect(() => assertRedisInstalled({ ...process.env, PATH: emptyPath })).toThrow(
    'redis-server is not installed: run `apt-get install -y redis-server`',
  );
  expect(() => assertRedisInstalled()).not.toThrow();
});
