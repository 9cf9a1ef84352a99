// What bench:publish measures the same way for every backend: the messages, the publishing loops
// (single calls with a window of outstanding publishes; arrays of 1000) and the best-of-runs timing.
import type { Broker, MessageInput } from '@mupets/broker';

export const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
export const NAIVE_TOTAL = Math.min(TOTAL, 20_000);
export const WINDOW = 5_000; // single-message publishes kept outstanding, as a busy service would
// this VM is noisy: every rate is the best of a few runs, ours and the baselines alike
export const RUNS = Number(process.env.BENCH_RUNS ?? 3);

export function messageFor(i: number): MessageInput {
  return { type: 'bench.event', source: { service: 'bench' }, level: 'info', message: 'user signed in', data: { i } };
}

export async function seconds(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function best(run: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let i = 0; i < RUNS; i++) {
    top = Math.max(top, await run());
  }
  return top;
}

/** One `publish()` per message, `WINDOW` outstanding, TOTAL messages on `channel`. */
export async function publishSingles(broker: Broker, channel = 'single'): Promise<void> {
  // fire-and-check, as a service logging at full speed does; flow control by chunks of 1000, so
  // the harness does not pay an await per message
  const chunks: Array<Promise<string[]>> = [];
  for (let i = 0; i < TOTAL; i += 1000) {
    const chunk: Array<Promise<string>> = [];
    for (let k = i; k < Math.min(i + 1000, TOTAL); k++) {
      chunk.push(broker.publish(channel, messageFor(k)));
    }
    chunks.push(Promise.all(chunk));
    if (chunks.length * 1000 >= WINDOW) {
      await chunks.shift();
    }
  }
  await Promise.all(chunks);
}

/** `publish(array of 1000)`, 4 outstanding, TOTAL messages on `channel`. */
export async function publishArrays(broker: Broker, channel = 'batched'): Promise<void> {
  const outstanding: Array<Promise<string[]>> = [];
  for (let i = 0; i < TOTAL; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, TOTAL - i) }, (_, k) => messageFor(i + k));
    outstanding.push(broker.publish(channel, batch));
    if (outstanding.length === 4) {
      await outstanding.shift();
    }
  }
  await Promise.all(outstanding);
}
