import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ServiceLogger } from './logger';
import { readinessOf, runCheck, type CheckResult, type HealthCheck } from './readiness';

export type { CheckResult, HealthCheck } from './readiness';

export interface HealthServerOptions {
  /** Port to listen on; 0 picks a free one (see the port `listen()` resolves with). */
  port: number;
  /** Interface to bind. Default `0.0.0.0` (reachable by Docker's healthcheck and by Prometheus). */
  host?: string;
  /** Readiness checks by name, e.g. `{ redis: () => broker.ready(1000) }`. Default: none. */
  checks?: Record<string, HealthCheck>;
  /** Served on `/metrics`; without it `/metrics` is 404. */
  registry?: Registry;
  /** A check that has not settled after this fails as timed out. Default 2000 ms. */
  checkTimeoutMs?: number;
  /** Logs readiness changes and request failures. Default: silent. */
  logger?: ServiceLogger;
  /** How long `close()` lets requests in flight finish before cutting their connections. Default 2000 ms. */
  closeGraceMs?: number;
}

export interface HealthServer {
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<{ port: number }>;
  /** Stops listening and closes keep-alive connections (idle ones at once, busy ones after the grace). */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Liveness, readiness and metrics over plain `node:http` (HTTP frameworks stay in images/*):
 * `GET /healthz` answers while the process does; `GET /readyz` runs every check in parallel, each
 * under `checkTimeoutMs`, and answers 200 or 503 with each check's outcome; `GET /metrics` serves
 * the registry in Prometheus text format. Other paths are 404, other methods 405.
 */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const host = options.host ?? '0.0.0.0';
  const checks = options.checks ?? {};
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  const closeGraceMs = options.closeGraceMs ?? 2000;
  const logger = options.logger;
  const lastOutcome = new Map<string, boolean>();
  let closing: Promise<void> | undefined;

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger?.error('health endpoint failed', { path: request.url, error });
      if (!response.headersSent) {
        send(response, 500, { status: 'error', error: 'internal error' });
      } else {
        response.destroy();
      }
    });
  });
  // probes come every few seconds; a long keep-alive would only hold sockets open at shutdown
  server.keepAliveTimeout = 5000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://health').pathname;
    const known = path === '/healthz' || path === '/readyz' || (path === '/metrics' && options.registry);
    if (!known) {
      send(response, 404, { status: 'not_found', error: `no route for ${path}` });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      send(response, 405, {
        status: 'method_not_allowed',
        error: `${request.method ?? '?'} is not allowed on ${path}`,
      });
      return;
    }
    if (path === '/healthz') {
      send(response, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      const readiness = readinessOf(await runChecks());
      send(response, readiness.status === 'ready' ? 200 : 503, readiness);
    } else {
      const registry = options.registry!;
      const body = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    }
  }

  async function runChecks(): Promise<Record<string, CheckResult>> {
    const names = Object.keys(checks);
    const outcomes = await Promise.all(names.map((name) => runCheck(checks[name]!, checkTimeoutMs)));
    const results: Record<string, CheckResult> = {};
    names.forEach((name, i) => {
      const result = outcomes[i]!;
      results[name] = result;
      // log changes, not every probe: readiness is polled every few seconds
      if (lastOutcome.get(name) !== result.ok) {
        if (result.ok) {
          if (lastOutcome.has(name)) {
            logger?.info('readiness check passing again', { check: name });
          }
        } else {
          logger?.warn('readiness check failing', { check: name, error: result.error });
        }
        lastOutcome.set(name, result.ok);
      }
    });
    return results;
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once('error', onError);
        server.listen(options.port, host, () => {
          server.off('error', onError);
          resolve({ port: (server.address() as AddressInfo).port });
        });
      });
    },

    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        const grace = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        // close() waits for every connection to end; idle keep-alive ones would otherwise hold it open
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': JSON_TYPE,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(json),
  });
  response.end(response.req.method === 'HEAD' ? undefined : json);
}
