// bench:collect: how fast the log-collector gets container output into the broker, against reading
// the same logs raw from the Docker API in the same run. Prints one `name: value` line per figure.
// Needs root (a private dockerd, as the integration tests use) and busybox-static.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import Redis from 'ioredis';
import { createRedisBroker } from '@mupets/broker';
import { createLogDemuxer, createMetricsRegistry } from '@mupets/cargo';
import { buildBusyboxImage, composeLabels, startDockerd, TEST_IMAGE, waitFor } from '@mupets/testkit';
import { createCollector } from '../images/log-collector/src/collector';
import { createPositionStore } from '../images/log-collector/src/position-store';
import { redisForBench } from './redis-for-bench';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const PROJECT = `bench${randomBytes(3).toString('hex')}`;

/** Lines/s of a plain follow of the container's whole log until `LINES` lines were demultiplexed. */
async function rawRead(container: Docker.Container): Promise<number> {
  const started = performance.now();
  const stream = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    timestamps: true,
  })) as unknown as IncomingMessage;
  const demux = createLogDemuxer({ tty: false });
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      count += demux.push(chunk).length;
      if (count >= LINES) {
        stream.destroy();
        resolve();
      }
    });
    stream.on('error', reject);
  });
  return LINES / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const dockerd = await startDockerd();
  const redisTarget = await redisForBench();
  const docker = new Docker({ socketPath: dockerd.socketPath });
  const redis = new Redis(redisTarget.url);
  const prefix = `bench:collect:${randomBytes(3).toString('hex')}:`;
  try {
    await buildBusyboxImage(docker);
    // the whole output is written before either reader starts: both read the same file from its start
    const container = await docker.createContainer({
      name: `${PROJECT}-printer`,
      Image: TEST_IMAGE,
      Cmd: [
        '/bin/sh',
        '-c',
        `trap "exit 0" TERM; i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "level=info msg=\\"line $i\\" n=$i"; done; while true; do sleep 1; done`,
      ],
      Labels: composeLabels(PROJECT, 'printer'),
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    await waitFor(
      async () => {
        const tail = await container.logs({ stdout: true, tail: 1 });
        return tail.toString('utf8').includes(`n=${LINES}`);
      },
      { timeoutMs: 300_000, intervalMs: 200, what: 'the printer finished' },
    );
    console.log(`lines: ${LINES}`);
    const raw = await rawRead(container);
    console.log(`docker_api_raw_lines_per_s: ${Math.round(raw)}`);

    const broker = createRedisBroker({ url: redisTarget.url, keyPrefix: prefix });
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const collector = createCollector({
      docker,
      broker,
      positions: createPositionStore(redis, `${prefix}position:`),
      logger: silent,
      registry: createMetricsRegistry({ service: 'bench', collectDefault: false }),
      scope: { kind: 'project', project: PROJECT },
      host: hostname(),
      channel: 'logs',
      // the collector's defaults (images/log-collector/src/config.ts)
      batchSize: 1000,
      maxBufferedPerContainer: 5000,
      multilineWaitMs: 250,
      defaults: { stdout: 'info', stderr: 'info' },
    });
    const started = performance.now();
    await collector.start();
    await waitFor(async () => (await redis.xlen(`${prefix}logs`)) >= LINES, {
      timeoutMs: 600_000,
      intervalMs: 20,
      what: 'every line published',
    });
    const collected = LINES / ((performance.now() - started) / 1000);
    await collector.stop();
    await broker.close();
    console.log(`collector_into_broker_lines_per_s: ${Math.round(collected)}`);
    console.log(`ratio_collector_to_raw: ${(collected / raw).toFixed(2)}`);
    await redis.del(`${prefix}logs`);
  } finally {
    redis.disconnect();
    await redisTarget.stop();
    await dockerd.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
