import { z } from 'zod';
import { loadConfig } from './config';
import { envInt, envUrl } from './env-schema';
import { runService } from './run-service';

function capture() {
  const exits: number[] = [];
  let text = '';
  return {
    exits,
    output: () => text,
    options: {
      exit: (code: number) => {
        exits.push(code);
      },
      stderr: {
        write: (chunk: string | Uint8Array) => {
          text += String(chunk);
          return true;
        },
      },
    },
  };
}

describe('runService', () => {
  it('prints each configuration problem on its own line, without a stack, and exits 1', async () => {
    const { exits, output, options } = capture();
    const schema = z.object({ REDIS_URL: envUrl(), PORT: envInt({ min: 1 }), SESSION_SECRET: z.string().min(32) });
    await runService(async () => {
      await Promise.resolve();
      loadConfig(schema, { REDIS_URL: 'nope', PORT: '0', SESSION_SECRET: 'short-but-secret' });
    }, options);
    expect(exits).toEqual([1]);
    const lines = output().trimEnd().split('\n');
    expect(lines).toEqual([
      'invalid configuration, the service cannot start:',
      '  REDIS_URL: Invalid URL',
      '  PORT: must be at least 1',
      expect.stringMatching(/^ {2}SESSION_SECRET: /) as string,
    ]);
    expect(output()).not.toContain('short-but-secret');
    expect(output()).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('prints any other start-up failure with its stack and cause, and exits 1', async () => {
    const { exits, output, options } = capture();
    await runService(
      () => Promise.reject(new Error('listen EADDRINUSE', { cause: new Error('port 8080 taken') })),
      options,
    );
    expect(exits).toEqual([1]);
    expect(output()).toContain('start-up failed: Error: listen EADDRINUSE');
    expect(output()).toMatch(/\bat .*run-service\.test\.ts:\d+/);
    expect(output()).toContain('caused by: Error: port 8080 taken');
  });

  it('leaves a service that started alone', async () => {
    const { exits, output, options } = capture();
    let started = false;
    await runService(async () => {
      await Promise.resolve();
      started = true;
    }, options);
    expect(started).toBe(true);
    expect(exits).toEqual([]);
    expect(output()).toBe('');
  });
});
