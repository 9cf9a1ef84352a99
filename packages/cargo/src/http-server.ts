import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

export interface HttpServer {
  readonly server: Server;
  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /**
   * Stops accepting connections, closes idle keep-alive sockets at once, lets requests in flight
   * finish for `graceMs`, then cuts what is left.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * A node:http server around a request listener (an express app), with the shutdown the house style
 * asks for. The admin and the ingest serve their apps through it.
 */
export function createHttpServer(listener: RequestListener): HttpServer {
  const server = createServer(listener);
  // below a proxy's usual 60 s idle timeout, so the proxy never reuses a socket we close
  server.keepAliveTimeout = 55_000;
  server.headersTimeout = 60_000;
  let closing: Promise<void> | undefined;
  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
