import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';

/** This process's writer id, held until `release()` or the process's end. */
export interface WriterSlot {
  readonly writerId: string;
  release(): Promise<void>;
}

/**
 * Claims the lowest free writer slot for one archive (`scope`: its server and database) in this
 * network namespace and returns `<hostname>-<slot>`.
 *
 * Why: the archive keeps per-minute count rows per writer (two writers bumping one row would
 * conflict), so a writer id new at every start added rows at every restart. A slot is an abstract
 * Unix socket (`\0mupets-archive-writer-<scope hash>-<n>`, Linux): the kernel frees it when the process
 * ends, SIGKILL included, so the next start takes the same slot. A container has a network
 * namespace and a hostname of its own, kept across its restarts: its archiver is always
 * `<container id>-0`. Archivers sharing one (a host's tests, `network_mode: host`) get 0, 1, 2….
 */
export async function claimWriterSlot(scope: string, host = hostname()): Promise<WriterSlot> {
  // ids only need to differ between writers of one database; a hash keeps the name short
  const prefix = `mupets-archive-writer-${createHash('sha256').update(scope).digest('hex').slice(0, 16)}`;
  for (let slot = 0; slot < 1000; slot++) {
    const server = createServer();
    if (await listens(server, `\0${prefix}-${slot}`)) {
      server.unref();
      return {
        writerId: `${host}-${slot}`,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
  }
  throw new Error('no free writer slot among 1000: too many archivers on one network namespace');
}

function listens(server: Server, path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
    );
    server.listen(path, () => resolve(true));
  });
}
