// bench:ingest: records/s through the ingest (NDJSON, OTLP/JSON, OTLP protobuf over HTTP) against
// publish() straight to the same Redis in the same run, with the same batch size. One figure per
// line; the ratios are ingest / publish() (for OTLP also against publish() of the very records the
// requests become, which carry resource and scope too). The HTTP client runs in this process too (one core's
// worth of work shared by both sides), so the ratios are a floor.
// BENCH_RECORDS (default 100 000), BENCH_BATCH (1000), BENCH_CONCURRENCY (4); REDIS_URL to use a given Redis.
import { Agent, request } from 'node:http';
import { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import Redis from 'ioredis';
import { createRedisBroker, type MessageInput } from '@mupets/broker';
import { createHttpServer } from '@mupets/cargo';
import { TokenStore } from '@mupets/tokens';
import { createApp } from '../images/ingest/src/app';
import { loadIngestConfig } from '../images/ingest/src/config';
import { readLogsRequest } from '../images/ingest/src/otlp/otlp-logs';
import { RateLimiter } from '../images/ingest/src/rate-limiter';
import { redisForBench } from './redis-for-bench';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const REQUESTS = Math.ceil(RECORDS / BATCH);

function recordFor(i: number): MessageInput {
  return {
    type: 'order.created',
    source: { service: 'py-shop' },
    level: 'info',
    message: `order ${i}`,
    data: { order: i, total: 12.5 },
  };
}

/** Runs `count` jobs, `CONCURRENCY` at a time; resolves with the seconds taken. */
async function timed(count: number, job: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        await job(next++);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

function post(agent: Agent, port: number, path: string, type: string, token: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${token}`, 'content-length': body.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`${path}: ${response.statusCode} ${Buffer.concat(chunks).toString()}`));
            return;
          }
          resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One OTLP request of BATCH records, made by the official SDK's serializers (JSON and protobuf). */
async function otlpBodies(): Promise<{ json: Buffer; protobuf: Buffer }> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'py-shop' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('bench');
  for (let i = 0; i < BATCH; i++) {
    logger.emit({ severityNumber: 9, body: `order ${i}`, attributes: { order: i, total: 12.5 } });
  }
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  return {
    json: Buffer.from(JsonLogsSerializer.serializeRequest(records)!),
    protobuf: Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!),
  };
}

async function main(): Promise<void> {
  const redisInfo = await redisForBench();
  const admin = new Redis(redisInfo.url);
  const prefix = 'bench-ingest:';
  const broker = createRedisBroker({ url: redisInfo.url, keyPrefix: prefix, maxBufferedMessages: 50_000 });
  await broker.ready(10_000);
  const tokens = new TokenStore({ redis: admin, keyPrefix: prefix });
  const { token } = await tokens.create({
    name: 'bench',
    channels: ['bench', 'logs'],
    services: ['py-shop'],
    ratePerSecond: 1_000_000,
  });
  const config = loadIngestConfig({
    REDIS_URL: redisInfo.url,
    INGEST_MAX_RECORDS: String(Math.max(BATCH, 1)),
    INGEST_BODY_LIMIT: '50mb',
  });
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const server = createHttpServer(createApp({ config, broker, tokens, limiter: new RateLimiter(), logger: quiet }));
  const port = await server.listen(0, '127.0.0.1');
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  const batch = Array.from({ length: BATCH }, (_, i) => recordFor(i));
  const ndjson = Buffer.from(batch.map((record) => JSON.stringify(record)).join('\n'));
  const otlp = await otlpBodies();

  const expectStored = async (key: string): Promise<void> => {
    const stored = await admin.xlen(key);
    if (stored !== REQUESTS * BATCH) {
      throw new Error(`${key}: stored ${stored}, expected ${REQUESTS * BATCH}`);
    }
    await admin.del(key);
  };
  try {
    await admin.del(`${prefix}bench`, `${prefix}logs`);
    // warm-up of every path (JIT), not measured
    await broker.publish('bench', batch);
    await post(agent, port, '/v1/channels/bench/messages', 'application/x-ndjson', token, ndjson);
    await post(agent, port, '/v1/logs', 'application/x-protobuf', token, otlp.protobuf);
    await admin.del(`${prefix}bench`, `${prefix}logs`);

    const direct = await timed(REQUESTS, async () => {
      await broker.publish(
        'bench',
        batch.map((record) => ({ ...record })),
      );
    });
    await expectStored(`${prefix}bench`);
    // the records the OTLP requests become (resource, scope and attributes in each): a second baseline
    const otlpRecords = readLogsRequest(JSON.parse(otlp.json.toString('utf8'))).map(({ message }) => message);
    const directOtlp = await timed(REQUESTS, async () => {
      await broker.publish(
        'logs',
        otlpRecords.map((record) => ({ ...record })),
      );
    });
    await expectStored(`${prefix}logs`);
    const viaNdjson = await timed(REQUESTS, () =>
      post(agent, port, '/v1/channels/bench/messages', 'application/x-ndjson', token, ndjson),
    );
    await expectStored(`${prefix}bench`);
    const viaOtlpJson = await timed(REQUESTS, () =>
      post(agent, port, '/v1/logs', 'application/json', token, otlp.json),
    );
    await expectStored(`${prefix}logs`);
    const viaOtlpProto = await timed(REQUESTS, () =>
      post(agent, port, '/v1/logs', 'application/x-protobuf', token, otlp.protobuf),
    );
    await expectStored(`${prefix}logs`);

    const total = REQUESTS * BATCH;
    const rate = (took: number) => Math.round(total / took);
    console.log(`records: ${total}`);
    console.log(`batch_records: ${BATCH}`);
    console.log(`concurrency: ${CONCURRENCY}`);
    console.log(`publish_direct_records_per_s: ${rate(direct)}`);
    console.log(`publish_direct_otlp_records_per_s: ${rate(directOtlp)}`);
    console.log(`ingest_ndjson_records_per_s: ${rate(viaNdjson)}`);
    console.log(`ingest_otlp_json_records_per_s: ${rate(viaOtlpJson)}`);
    console.log(`ingest_otlp_protobuf_records_per_s: ${rate(viaOtlpProto)}`);
    console.log(`ratio_ndjson_vs_publish: ${(direct / viaNdjson).toFixed(2)}`);
    console.log(`ratio_otlp_json_vs_publish: ${(direct / viaOtlpJson).toFixed(2)}`);
    console.log(`ratio_otlp_protobuf_vs_publish: ${(direct / viaOtlpProto).toFixed(2)}`);
    console.log(`ratio_otlp_json_vs_publish_same_records: ${(directOtlp / viaOtlpJson).toFixed(2)}`);
    console.log(`ratio_otlp_protobuf_vs_publish_same_records: ${(directOtlp / viaOtlpProto).toFixed(2)}`);
  } finally {
    agent.destroy();
    await server.close(1000);
    await broker.close();
    await admin.del(`${prefix}_tokens`, `${prefix}_token-ids`, `${prefix}bench`, `${prefix}logs`);
    admin.disconnect();
    await redisInfo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
