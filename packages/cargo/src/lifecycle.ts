import type { ServiceLogger } from './logger';

/** Shutdown runs in three phases: stop taking work, finish the work in hand, close clients. */
export type ShutdownPhase = 'intake' | 'drain' | 'close';
export type ShutdownHook = () => Promise<void> | void;

export interface LifecycleOptions {
  logger: ServiceLogger;
  /**
   * The whole shutdown must finish within this; then the process exits 1 regardless. Keep it below
   * compose's `stop_grace_period` (10 s by default), or SIGKILL arrives first. Default 10 000 ms.
   */
  deadlineMs?: number;
  /** Ends the process. Default `process.exit`; tests pass their own. */
  exit?: (code: number) => void;
}

export interface Lifecycle {
  /**
   * Registers a hook. `intake` hooks (stop servers, consumers) run in parallel, then `drain` hooks
   * in parallel, then `close` hooks one at a time in reverse registration order, so a client
   * registered after the one it uses is closed first.
   */
  onShutdown(phase: ShutdownPhase, name: string, fn: ShutdownHook): void;
  /**
   * Runs the hooks once and exits with `exitCode` (1 when the deadline passes). Later calls return
   * the same promise; a later non-zero code still raises the final exit code.
   */
  shutdown(reason: string, exitCode?: number): Promise<void>;
  /**
   * SIGTERM/SIGINT shut down with 0; an unhandled rejection or uncaught exception is logged as fatal
   * and shuts down with 1. A second signal during shutdown exits at once. Returns the remover.
   */
  installProcessHandlers(): () => void;
  /** True once `shutdown` was called. */
  readonly shuttingDown: boolean;
}

const PHASES: readonly ShutdownPhase[] = ['intake', 'drain', 'close'];

/** One phased, run-once shutdown with a deadline, shared by everything a service starts. */
export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const { logger } = options;
  const deadlineMs = options.deadlineMs ?? 10_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const hooks: Record<ShutdownPhase, Array<{ name: string; fn: ShutdownHook }>> = { intake: [], drain: [], close: [] };
  const running = new Set<string>();
  let finalCode = 0;
  let shuttingDown: Promise<void> | undefined;

  async function runHook(phase: ShutdownPhase, hook: { name: string; fn: ShutdownHook }): Promise<void> {
    const label = `${phase}:${hook.name}`;
    running.add(label);
    try {
      await hook.fn();
    } catch (error) {
      // one failing hook must not keep the others from releasing their resources
      logger.error('shutdown hook failed', { phase, hook: hook.name, error });
    } finally {
      running.delete(label);
    }
  }

  async function runPhases(): Promise<void> {
    for (const phase of PHASES) {
      if (phase === 'close') {
        for (const hook of [...hooks.close].reverse()) {
          await runHook(phase, hook);
        }
      } else {
        await Promise.all(hooks[phase].map((hook) => runHook(phase, hook)));
      }
    }
  }

  async function run(reason: string): Promise<void> {
    const started = performance.now();
    logger.info('shutdown started', { reason, deadlineMs });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      // deliberately not unref'd: the deadline must fire even if nothing else keeps the process up
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const outcome = await Promise.race([runPhases().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      logger.error('shutdown deadline passed, exiting', { reason, deadlineMs, stillRunning: [...running] });
      finalCode = 1;
    } else {
      logger.info('shutdown complete', { reason, ms: Math.round(performance.now() - started), exitCode: finalCode });
    }
    // one turn of the event loop lets the last log lines leave before the process ends
    await new Promise((resolve) => setImmediate(resolve));
    exit(finalCode);
  }

  const lifecycle: Lifecycle = {
    onShutdown(phase, name, fn) {
      if (!PHASES.includes(phase)) {
        throw new RangeError(`unknown shutdown phase ${JSON.stringify(phase)}; use intake, drain or close`);
      }
      if (shuttingDown) {
        logger.warn('shutdown hook registered during shutdown, it will not run', { phase, hook: name });
        return;
      }
      hooks[phase].push({ name, fn });
    },

    shutdown(reason, exitCode = 0) {
      finalCode = Math.max(finalCode, exitCode);
      shuttingDown ??= run(reason);
      return shuttingDown;
    },

    installProcessHandlers() {
      const onSignal = (signal: NodeJS.Signals): void => {
        if (shuttingDown) {
          // a second Ctrl-C means "now": do not make the operator wait for the deadline
          logger.warn('second signal during shutdown, exiting now', { signal });
          exit(1);
          return;
        }
        void lifecycle.shutdown(signal, 0);
      };
      const onRejection = (reason: unknown): void => {
        logger.error('unhandled rejection', { error: reason, fatal: true });
        void lifecycle.shutdown('unhandledRejection', 1);
      };
      const onException = (error: Error, origin: string): void => {
        logger.error('uncaught exception', { error, origin, fatal: true });
        void lifecycle.shutdown('uncaughtException', 1);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      process.on('unhandledRejection', onRejection);
      process.on('uncaughtException', onException);
      return () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        process.off('unhandledRejection', onRejection);
        process.off('uncaughtException', onException);
      };
    },

    get shuttingDown() {
      return shuttingDown !== undefined;
    },
  };
  return lifecycle;
}
