import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../..');

/**
 * Runs a TypeScript file as a separate Node process, against the sources (ts-node, with the repo's
 * `@mupets/*` paths), so a test can kill a real process: SIGKILL mid-batch, SIGTERM for shutdown.
 * `env` is the child's whole environment (PATH is added when missing).
 */
export function spawnTs(file: string, env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', file], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, TS_NODE_PROJECT: resolve(repoRoot, 'tsconfig.json'), ...env },
  });
}
