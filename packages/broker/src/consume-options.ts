import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConsumeOptions } from './types';

/** Consume options with every default filled in, the same for every backend. */
export type ResolvedConsumeOptions = Required<Omit<ConsumeOptions, 'reclaimIntervalMs'>> & {
  reclaimIntervalMs: number;
};

export function resolveConsumeOptions(options: ConsumeOptions = {}): ResolvedConsumeOptions {
  const minIdleMs = options.minIdleMs ?? 30_000;
  const resolved: ResolvedConsumeOptions = {
    consumer: options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    batchSize: options.batchSize ?? 100,
    maxBatchBytes: options.maxBatchBytes ?? 8 * 1024 * 1024,
    blockMs: options.blockMs ?? 2000,
    minIdleMs,
    reclaimIntervalMs: options.reclaimIntervalMs ?? Math.max(100, Math.floor(minIdleMs / 2)),
    maxDeliveries: options.maxDeliveries ?? 5,
    startId: options.startId ?? '0',
  };
  for (const key of [
    'batchSize',
    'maxBatchBytes',
    'blockMs',
    'minIdleMs',
    'reclaimIntervalMs',
    'maxDeliveries',
  ] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < (key === 'blockMs' ? 0 : 1)) {
      throw new RangeError(`consume option ${key} must be a positive integer, got ${resolved[key]}`);
    }
  }
  return resolved;
}
