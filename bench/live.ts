// bench:live: how late the admin's live stream (GET /api/live, SSE) delivers what is published,
// against a plain XREAD BLOCK client on the same Redis in the same run. The admin runs as a real
// process (dist/main.js: `npm run bench:live` builds first; without a build, the sources through
// ts-node, whose compiler adds about 90 MB to the RSS); this process
// publishes at a steady rate, each envelope carrying its publish time, and reads both streams.
// Prints one `name: value` line per figure.
// Options: --seconds N (BENCH_LIVE_SECONDS, default 30), --rate N msgs/s (BENCH_LIVE_RATE, default 1000).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { createRedisBroker } from '@mupets/broker';
import { freePort, spawnTs, waitFor } from '@mupets/testkit';
import { redisForBench } from './redis-for-bench';

const CHANNEL = 'bench';
const PREFIX = 'bench-live:';
const PASSWORD = 'bench-live-password';
const ADMIN_DIR = resolve(__dirname, '../images/admin');

function option(name: string, env: string, fallback: number): number {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  const raw = at >= 0 ? args[at + 1] : process.env[env];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`--${name} must be a positive number, got ${raw}`);
  }
  return value;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** The admin's resident memory now and at its peak, from /proc (MiB). */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

function startAdmin(env: Record<string, string>): { proc: ChildProcess; runtime: string } {
  const compiled = join(ADMIN_DIR, 'dist/main.js');
  if (existsSync(compiled)) {
    return {
      proc: spawn(process.execPath, [compiled], { env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' }),
      runtime: 'node dist',
    };
  }
  return { proc: spawnTs(join(ADMIN_DIR, 'src/main.ts'), env), runtime: 'ts-node (transpile-only)' };
}

async function login(base: string): Promise<string> {
  const answer = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: PASSWORD }),
  });
  const cookie = answer.headers.get('set-cookie')?.split(';')[0];
  if (answer.status !== 204 || !cookie) {
    throw new Error(`login failed: ${answer.status}`);
  }
  return cookie;
}

/** Follows the admin's SSE stream; `onEntry` gets each entry's publish time (performance.now() of this process). */
function followSse(url: string, cookie: string, onEntry: (sentAt: number) => void): Promise<() => void> {
  return new Promise((resolveOpen, reject) => {
    const req = request(url, { headers: { cookie, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET /api/live: ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (!block.includes('event: entries')) {
            continue;
          }
          const now = performance.now();
          const data = block.slice(block.indexOf('data: ') + 6);
          for (const entry of JSON.parse(data) as Array<{ envelope: { data: { t: number } } }>) {
            onEntry(now - entry.envelope.data.t);
          }
        }
      });
      resolveOpen(() => req.destroy());
    });
    req.on('error', reject);
    req.end();
  });
}

/** The baseline: one XREAD BLOCK loop on its own connection, from the stream's end. */
function followXread(url: string, key: string, onEntry: (latency: number) => void): { stop(): Promise<void> } {
  const redis = new Redis(url);
  let stopped = false;
  const loop = (async () => {
    let cursor = '$';
    while (!stopped) {
      const reply = await redis.xread('BLOCK', 500, 'STREAMS', key, cursor);
      const now = performance.now();
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        cursor = id;
        const envelope = JSON.parse(fields[1]!) as { data: { t: number } };
        onEntry(now - envelope.data.t);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      redis.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const seconds = option('seconds', 'BENCH_LIVE_SECONDS', 30);
  const rate = option('rate', 'BENCH_LIVE_RATE', 1000);
  const redisInfo = await redisForBench();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-live-'));
  const passwordFile = join(dataDir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const [port, orientPort] = await Promise.all([freePort(), freePort()]);
  const { proc, runtime } = startAdmin({
    REDIS_URL: redisInfo.url,
    BROKER_KEY_PREFIX: PREFIX,
    // the live stream needs no archive: OrientDB points at a closed port (readiness says so, nothing else cares)
    ORIENTDB_HOST: '127.0.0.1',
    ORIENTDB_PORT: String(orientPort),
    ORIENTDB_PASSWORD: 'unused',
    ADMIN_PORT: String(port),
    ADMIN_HOST: '127.0.0.1',
    ADMIN_PASSWORD_FILE: passwordFile,
    ADMIN_DATA_DIR: dataDir,
    ADMIN_CHANNELS: CHANNEL,
    ADMIN_COMPOSE_PROJECT: 'bench',
    DOCKER_SOCKET: join(dataDir, 'no-docker.sock'),
    ADMIN_UI_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ADMIN_COOKIE_SECURE: 'false',
  });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const admin = new Redis(redisInfo.url);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) {
          throw new Error(`admin exited: ${output}`);
        }
        return (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 60_000, what: 'the admin listening', failFast: true },
    );
    const cookie = await login(base);
    const idle = rssOf(proc.pid!);

    const sse: number[] = [];
    const xread: number[] = [];
    const closeSse = await followSse(`${base}/api/live?channels=${CHANNEL}`, cookie, (latency) => sse.push(latency));
    const baseline = followXread(redisInfo.url, `${PREFIX}${CHANNEL}`, (latency) => xread.push(latency));
    const broker = createRedisBroker({ url: redisInfo.url, keyPrefix: PREFIX });
    await broker.ready(10_000);

    // a steady rate: every 5 ms, publish what the clock says is due, each with its own timestamp
    const total = Math.round(seconds * rate);
    let sent = 0;
    const pending: Array<Promise<string>> = [];
    const start = performance.now();
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        for (; sent < due; sent++) {
          pending.push(
            broker.publish(CHANNEL, {
              type: 'bench.live',
              source: { service: 'bench' },
              level: 'info',
              message: 'user signed in',
              data: { i: sent, t: performance.now() },
            }),
          );
        }
        if (sent >= total) {
          clearInterval(timer);
          done();
        }
      }, 5);
    });
    await Promise.all(pending);
    const publishSeconds = (performance.now() - start) / 1000;
    await waitFor(() => sse.length >= total && xread.length >= total, {
      timeoutMs: 60_000,
      what: `every message on both streams (sse ${sse.length}, xread ${xread.length} of ${total})`,
    });
    const loaded = rssOf(proc.pid!);
    closeSse();
    await baseline.stop();
    await broker.close();

    const sseSorted = [...sse].sort((a, b) => a - b);
    const xreadSorted = [...xread].sort((a, b) => a - b);
    console.log(`admin_runtime: ${runtime}`);
    console.log(`messages: ${total}`);
    console.log(`publish_rate_per_s: ${round(total / publishSeconds)}`);
    console.log(`received_sse: ${sse.length}`);
    console.log(`p50_ms: ${round(percentile(sseSorted, 50))}`);
    console.log(`p99_ms: ${round(percentile(sseSorted, 99))}`);
    console.log(`max_ms: ${round(sseSorted.at(-1) ?? NaN)}`);
    console.log(`baseline_xread_p50_ms: ${round(percentile(xreadSorted, 50))}`);
    console.log(`baseline_xread_p99_ms: ${round(percentile(xreadSorted, 99))}`);
    console.log(`p50_vs_baseline: ${round(percentile(sseSorted, 50) / percentile(xreadSorted, 50))}`);
    console.log(`admin_rss_idle_mb: ${round(idle.rss)}`);
    console.log(`admin_rss_mb: ${round(loaded.rss)}`);
    console.log(`admin_peak_rss_mb: ${round(loaded.peak)}`);
  } finally {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((done) => proc.once('exit', done));
    }
    await admin.del(`${PREFIX}${CHANNEL}`, `${PREFIX}logs`, `${PREFIX}events`);
    admin.disconnect();
    await redisInfo.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
