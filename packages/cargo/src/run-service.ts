import { ConfigError } from './config';

export interface RunServiceOptions {
  /** Ends the process. Default `process.exit`; tests pass their own. */
  exit?: (code: number) => void;
  /** Where start-up failures are written. Default `process.stderr`. */
  stderr?: Pick<NodeJS.WritableStream, 'write'>;
}

/**
 * Runs a service's `main` (which builds, listens and registers its shutdown hooks, then returns).
 * A {@link ConfigError} prints its problems, one per line, without a stack trace: the operator needs
 * the variable names, not our call sites. Any other start-up failure prints its stack (and causes).
 * Both exit 1. Resolves once `main` has resolved or the failure was reported.
 *
 * `main.ts`: `void runService(main);`
 */
export async function runService(main: () => Promise<void>, options: RunServiceOptions = {}): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const stderr = options.stderr ?? process.stderr;
  try {
    await main();
  } catch (error) {
    // by code too: a second copy of this package in node_modules has its own ConfigError class
    if (error instanceof ConfigError || (error as { code?: unknown } | null)?.code === 'CONFIG_INVALID') {
      const problems = (error as ConfigError).problems ?? [];
      const lines = problems.map((problem) => `  ${problem.variable}: ${problem.message}`);
      stderr.write(`invalid configuration, the service cannot start:\n${lines.join('\n')}\n`);
    } else {
      stderr.write(`start-up failed: ${describe(error)}\n`);
    }
    exit(1);
  }
}

/** The stack of an error and of each of its causes; anything else as text. */
function describe(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const own = error.stack ?? `${error.name}: ${error.message}`;
  if (error.cause === undefined || depth >= 5) {
    return own;
  }
  return `${own}\ncaused by: ${describe(error.cause, depth + 1)}`;
}
