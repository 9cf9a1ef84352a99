import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpServer {
  readonly port: number;
  /** Stops accepting, lets requests in flight finish, closes idle keep-alive sockets at once. */
  close(): Promise<void>;
}

/** Listens on `port` (0: a free one) and `host`; resolves once the port is bound. */
export function listen(app: RequestListener, port: number, host: string): Promise<HttpServer> {
  const server = createServer(app);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
