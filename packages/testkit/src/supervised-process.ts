import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait-for';

export interface SupervisedProcessOptions {
  /** Name in error messages, e.g. `OrientDB on port 2424`. */
  what: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * True once the server serves. Gets the last output (stdout and stderr, up to `keepOutput`
   * characters); may probe the server.
   */
  ready: (output: string) => boolean | Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
  /** How much of the output to keep for `ready` and for errors. Default 8000 characters. */
  keepOutput?: number;
}

export interface SupervisedProcess {
  /** Spawns the server and resolves once `ready`; if it exits or times out first, kills it and throws with its output. */
  start: () => Promise<void>;
  /** Sends `signal` (SIGKILL by default) and waits until the process is gone. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** A server process a test can start, kill and start again: what the Redis, OrientDB and Kafka harnesses share. */
export function supervisedProcess(options: SupervisedProcessOptions): SupervisedProcess {
  const keep = options.keepOutput ?? 8000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
    await exited;
    child = undefined;
  };

  const start = async (): Promise<void> => {
    const proc = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-keep);
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitFor(
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(`${options.what} exited at start: ${output.trim() || '(no output)'}`);
        }
        return options.ready(output);
      },
      { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs ?? 50, what: options.what, failFast: true },
    ).catch(async (error: unknown) => {
      await stop('SIGKILL');
      throw new Error(`${(error as Error).message}; output: ${output.trim()}`, { cause: error });
    });
  };

  return { start, stop };
}
