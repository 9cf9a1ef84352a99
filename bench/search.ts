// bench:search — query latency on a 1M-record archive: p50/p95 of the admin's typical queries,
// the data field filter and a container's history among them. Seeds the records through the archive's own writer (as the log-archiver would) into a
// private OrientDB. Prints one figure per line.
//
//   npm run bench:search [-- --records 1000000] [-- --runs 50]
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createArchive, type ArchiveInput } from '@mupets/archive';
import type { Level } from '@mupets/broker';
import { startOrientDbServer } from '@mupets/testkit';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => Number(args[args.indexOf(name) + 1] || 0) || fallback;
const RECORDS = option('--records', 1_000_000);
const RUNS = option('--runs', 50);
const SPAN_MS = 48 * 3_600_000; // records spread over the last 48 h
const SERVICES = ['api', 'billing', 'mailer', 'search', 'auth', 'payments', 'ledger', 'notify'];
const LEVELS: Level[] = ['info', 'info', 'info', 'info', 'debug', 'debug', 'warn', 'error'];
const WORDS = ['order', 'customer', 'request', 'cache', 'retry', 'session', 'upstream', 'queue', 'token', 'invoice'];

function record(i: number, now: number): ArchiveInput {
  const ts = new Date(now - SPAN_MS + Math.floor((i / RECORDS) * SPAN_MS));
  const words = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]}`;
  // one message in 200 mentions a timeout: the full-text query's word
  const message = i % 200 === 0 ? `upstream timeout after ${i % 30} s (${words})` : `handled ${words} ${i}`;
  const id = randomUUID();
  return {
    brokerId: `${ts.getTime()}-${i}`,
    channel: 'logs',
    envelope: {
      id,
      channel: 'logs',
      type: i % 10 === 0 ? 'order.created' : 'log',
      ts: ts.toISOString(),
      source: { service: SERVICES[i % SERVICES.length]!, instance: `pod-${i % 5}` },
      // independent of the service (i % 8), so every service has every level
      level: LEVELS[Math.floor(i / SERVICES.length) % LEVELS.length],
      message,
      // one in 100 a server error (the field filter's value); container output like the log-collector's
      data: {
        i,
        status: i % 100 === 0 ? 500 : 200,
        docker: { containerId: `${(i % 5).toString(16).padStart(12, '0')}`, image: 'app', stream: 'stdout' },
      },
      v: 1,
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timed(run: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await run(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function main(): Promise<void> {
  const server = await startOrientDbServer({ heap: '2g', diskCacheMb: 2048 });
  const archive = createArchive({ ...server, database: 'bench_search' });
  try {
    await archive.bootstrap();
    const now = Date.now();
    const seedStarted = performance.now();
    for (let start = 0; start < RECORDS; start += 1000) {
      const count = Math.min(1000, RECORDS - start);
      await archive.write(Array.from({ length: count }, (_, k) => record(start + k, now)));
    }
    console.log(`records: ${RECORDS}`);
    console.log(`seed_msgs_per_s: ${Math.round(RECORDS / ((performance.now() - seedStarted) / 1000))}`);
    const from = new Date(now - 24 * 3_600_000);
    const to = new Date(now);
    const queries: Array<[string, () => Promise<unknown>]> = [
      ['last_100_errors_one_service', () => archive.search({ service: 'billing', level: 'error', limit: 100 })],
      ['fulltext_word_last_24h', () => archive.search({ text: 'timeout', from, to, limit: 100 })],
      ['counts_per_minute_24h', () => archive.counts({ from, to, bucket: 'minute' })],
      ['page_of_100_newest', () => archive.search({ limit: 100 })],
      ['field_status_500_last_24h', () => archive.search({ field: 'status', value: 500, from, to, limit: 100 })],
      ['container_by_name_100_newest', () => archive.search({ container: 'pod-3', limit: 100 })],
      ['container_by_id_100_newest', () => archive.search({ container: '000000000003', limit: 100 })],
    ];
    for (const [name, run] of queries) {
      const { p50, p95 } = await timed(run);
      console.log(`${name}_p50_ms: ${p50.toFixed(1)}`);
      console.log(`${name}_p95_ms: ${p95.toFixed(1)}`);
    }
  } finally {
    await archive.close();
    await server.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
