import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedisBroker, type Broker, type Envelope, type RedisBrokerOptions } from '@mupets/broker';
import { redisUrl, testPrefix } from '@mupets/testkit';
import { TokenStore, type CreateTokenInput } from '@mupets/tokens';
import type { Express } from 'express';
import Redis from 'ioredis';
import { createApp } from '../src/app';
import { loadIngestConfig } from '../src/config';
import { RateLimiter } from '../src/rate-limiter';

export interface TestIngest {
  readonly app: Express;
  /** The broker the ingest publishes with. */
  readonly broker: Broker;
  readonly tokens: TokenStore;
  readonly prefix: string;
  /** Serves the app on 127.0.0.1 and a free port (for the OpenTelemetry SDK and curl). */
  listen(): Promise<string>;
  /** A token scoped to `scope` (default: channels logs+events, service py-shop). */
  token(scope?: Partial<CreateTokenInput>): Promise<{ token: string; id: string }>;
  /** Every envelope stored on `channel` (read back from Redis, not from the ingest). */
  stored(channel: string): Promise<Envelope[]>;
  close(): Promise<void>;
}

export interface TestIngestOptions {
  file: string;
  /** Settings as environment variables, e.g. `{ INGEST_MAX_RECORDS: '3' }`. */
  env?: Record<string, string>;
  /** The broker's Redis (default: the shared test Redis) and options. */
  brokerUrl?: string;
  brokerOptions?: Partial<RedisBrokerOptions>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/**
 * The ingest app on real parts: a Redis broker on a key prefix of its own (the shared test Redis
 * unless `brokerUrl` names another), the token store on the shared test Redis.
 */
export function startTestIngest(options: TestIngestOptions): TestIngest {
  const prefix = testPrefix(options.file);
  const config = loadIngestConfig({ REDIS_URL: redisUrl(), ...options.env });
  const broker = createRedisBroker({
    url: options.brokerUrl ?? redisUrl(),
    keyPrefix: prefix,
    logger: silent,
    publishTimeoutMs: config.INGEST_PUBLISH_TIMEOUT_MS,
    onBufferFull: 'reject',
    ...options.brokerOptions,
  });
  const redis = new Redis(redisUrl());
  const tokens = new TokenStore({ redis, keyPrefix: prefix });
  const app = createApp({ config, broker, tokens, limiter: new RateLimiter(), logger: silent });
  let server: Server | undefined;
  return {
    app,
    broker,
    tokens,
    prefix,
    async listen() {
      if (!server) {
        const listening = app.listen(0, '127.0.0.1');
        server = listening;
        await new Promise<void>((resolve, reject) => {
          listening.once('listening', resolve);
          listening.once('error', reject);
        });
      }
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async token(scope = {}) {
      const { token, record } = await tokens.create({
        name: 'test',
        channels: ['logs', 'events'],
        services: ['py-shop'],
        ...scope,
      });
      return { token, id: record.id };
    },
    async stored(channel) {
      const direct = new Redis(redisUrl());
      try {
        const entries = await direct.xrange(`${prefix}${channel}`, '-', '+');
        return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('e') + 1] ?? 'null') as Envelope);
      } finally {
        direct.disconnect();
      }
    },
    async close() {
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeAllConnections();
      }
      await broker.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) {
        await redis.del(...keys);
      }
      await redis.quit();
    },
  };
}

/** The error of a native answer. */
export interface ApiError {
  code: string;
  message: string;
  issues?: Array<{ index?: number; line?: number; field: string; rule: string; message: string }>;
}

export function errorOf(answer: { body: unknown }): ApiError {
  return (answer.body as { error: ApiError }).error;
}

/** Runs curl (a client nobody here wrote); resolves with the status, the headers' text and the body. */
export function curl(args: readonly string[], input?: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`curl exited ${code}: ${err}`));
        return;
      }
      const cut = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(cut + 1)), body: out.slice(0, cut) });
    });
    child.stdin.end(input ?? '');
  });
}
