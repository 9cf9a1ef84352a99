import { createLifecycle } from './lifecycle';
import type { ServiceLogger } from './logger';

interface Recorded {
  level: 'info' | 'warn' | 'error';
  message: string;
  meta: Record<string, unknown> | undefined;
}

function recordingLogger(): { logger: ServiceLogger; records: Recorded[] } {
  const records: Recorded[] = [];
  const at =
    (level: Recorded['level']) =>
    (message: string, meta?: Record<string, unknown>): void => {
      records.push({ level, message, meta });
    };
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, records };
}

function setup(deadlineMs = 1000) {
  const { logger, records } = recordingLogger();
  const exits: number[] = [];
  const lifecycle = createLifecycle({ logger, deadlineMs, exit: (code) => exits.push(code) });
  return { lifecycle, records, exits };
}

/** A promise and the function that settles it, to hold a hook open until the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('createLifecycle', () => {
  it('runs intake, then drain, then close hooks in reverse registration order, then exits', async () => {
    const { lifecycle, exits } = setup();
    const order: string[] = [];
    const intakeA = gate();
    lifecycle.onShutdown('close', 'broker', () => {
      order.push('close:broker');
    });
    lifecycle.onShutdown('drain', 'consumer', () => {
      order.push('drain:consumer');
    });
    lifecycle.onShutdown('intake', 'http', async () => {
      order.push('intake:http start');
      await intakeA.promise;
      order.push('intake:http end');
    });
    lifecycle.onShutdown('intake', 'consumer', () => {
      // runs while the http hook is still waiting: intake hooks run in parallel
      order.push('intake:consumer');
      intakeA.open();
    });
    lifecycle.onShutdown('close', 'logs', async () => {
      await Promise.resolve();
      order.push('close:logs');
    });
    await lifecycle.shutdown('SIGTERM');
    expect(order).toEqual([
      'intake:http start',
      'intake:consumer',
      'intake:http end',
      'drain:consumer',
      'close:logs',
      'close:broker',
    ]);
    expect(exits).toEqual([0]);
  });

  it('runs once: later calls share the first run', async () => {
    const { lifecycle, exits } = setup();
    let runs = 0;
    lifecycle.onShutdown('close', 'counter', () => {
      runs += 1;
    });
    const first = lifecycle.shutdown('SIGTERM');
    const second = lifecycle.shutdown('SIGINT');
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await lifecycle.shutdown('again');
    expect(runs).toBe(1);
    expect(exits).toEqual([0]);
    expect(lifecycle.shuttingDown).toBe(true);
  });

  it('keeps the highest exit code asked for while running', async () => {
    const { lifecycle, exits } = setup();
    const hold = gate();
    lifecycle.onShutdown('drain', 'work', () => hold.promise);
    const running = lifecycle.shutdown('SIGTERM', 0);
    void lifecycle.shutdown('uncaughtException', 1);
    hold.open();
    await running;
    expect(exits).toEqual([1]);
  });

  it('logs a failing hook and still runs the others', async () => {
    const { lifecycle, records, exits } = setup();
    const ran: string[] = [];
    lifecycle.onShutdown('intake', 'http', () => {
      throw new Error('server already closed');
    });
    lifecycle.onShutdown('intake', 'consumer', () => {
      ran.push('consumer');
    });
    lifecycle.onShutdown('close', 'redis', () => {
      ran.push('redis');
    });
    lifecycle.onShutdown('close', 'db', () => Promise.reject(new Error('db close failed')));
    await lifecycle.shutdown('SIGTERM');
    expect(ran).toEqual(['consumer', 'redis']);
    const failures = records.filter((record) => record.message === 'shutdown hook failed');
    expect(failures.map((record) => record.meta?.hook)).toEqual(['http', 'db']);
    expect((failures[0]!.meta!.error as Error).message).toBe('server already closed');
    expect(exits).toEqual([0]);
  });

  it('exits 1 at the deadline, naming the hooks still running', async () => {
    const { lifecycle, records, exits } = setup(100);
    lifecycle.onShutdown('intake', 'http', () => undefined);
    lifecycle.onShutdown('drain', 'stuck-consumer', () => new Promise<void>(() => undefined));
    lifecycle.onShutdown('drain', 'quick', () => undefined);
    lifecycle.onShutdown('close', 'never-reached', () => undefined);
    await lifecycle.shutdown('SIGTERM', 0);
    expect(exits).toEqual([1]);
    const deadline = records.find((record) => record.message === 'shutdown deadline passed, exiting');
    expect(deadline?.level).toBe('error');
    expect(deadline?.meta?.stillRunning).toEqual(['drain:stuck-consumer']);
  });

  it('installs and removes process handlers', () => {
    const { lifecycle } = setup();
    const before = {
      sigterm: process.listenerCount('SIGTERM'),
      rejection: process.listenerCount('unhandledRejection'),
      exception: process.listenerCount('uncaughtException'),
    };
    const remove = lifecycle.installProcessHandlers();
    expect(process.listenerCount('SIGTERM')).toBe(before.sigterm + 1);
    expect(process.listenerCount('unhandledRejection')).toBe(before.rejection + 1);
    expect(process.listenerCount('uncaughtException')).toBe(before.exception + 1);
    remove();
    expect(process.listenerCount('SIGTERM')).toBe(before.sigterm);
    expect(process.listenerCount('unhandledRejection')).toBe(before.rejection);
    expect(process.listenerCount('uncaughtException')).toBe(before.exception);
  });

  it('shuts down with 0 on SIGTERM', async () => {
    const { lifecycle, records, exits } = setup();
    const remove = lifecycle.installProcessHandlers();
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await lifecycle.shutdown('ignored');
    } finally {
      remove();
    }
    expect(records[0]).toMatchObject({ message: 'shutdown started', meta: { reason: 'SIGTERM' } });
    expect(exits).toEqual([0]);
  });

  it('logs an unhandled rejection as fatal and shuts down with 1', async () => {
    const { lifecycle, records, exits } = setup();
    const remove = lifecycle.installProcessHandlers();
    const reason = new Error('nobody caught me');
    try {
      // emitted directly: a real unhandled rejection would also reach jest's own handler
      process.emit('unhandledRejection', reason, Promise.resolve());
      await lifecycle.shutdown('ignored');
    } finally {
      remove();
    }
    expect(records[0]).toMatchObject({
      level: 'error',
      message: 'unhandled rejection',
      meta: { error: reason, fatal: true },
    });
    expect(records[1]).toMatchObject({ message: 'shutdown started', meta: { reason: 'unhandledRejection' } });
    expect(exits).toEqual([1]);
  });

  it('exits 1 at once on a second signal during shutdown', async () => {
    const { lifecycle, exits } = setup();
    const hold = gate();
    lifecycle.onShutdown('drain', 'slow', () => hold.promise);
    const remove = lifecycle.installProcessHandlers();
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([]);
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([1]);
    } finally {
      remove();
      hold.open();
      await lifecycle.shutdown('ignored');
    }
  });

  it('rejects an unknown phase', () => {
    const { lifecycle } = setup();
    expect(() => lifecycle.onShutdown('later' as never, 'x', () => undefined)).toThrow(RangeError);
  });
});
