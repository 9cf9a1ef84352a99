import { isTransientRedisError, redactUrl } from './connection';

test('credentials never reach a log line', () => {
  expect(redactUrl('redis://user:s3cret@redis:6379/2')).toBe('redis://redis:6379/2');
  expect(redactUrl('rediss://:s3cret@redis')).toBe('rediss://redis');
  expect(redactUrl('not a url s3cret')).toBe('(unparseable url)');
});

test('a dropped connection or a busy Redis is worth retrying; a wrong command is not', () => {
  const reply = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });
  expect(isTransientRedisError(new Error('Connection is closed.'))).toBe(true);
  expect(isTransientRedisError(reply('LOADING Redis is loading the dataset in memory'))).toBe(true);
  expect(isTransientRedisError(reply('OOM command not allowed when used memory > maxmemory'))).toBe(true);
  expect(isTransientRedisError(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  expect(isTransientRedisError('not an error')).toBe(false);
});
