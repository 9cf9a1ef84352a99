import type Redis from 'ioredis';
import { ENVELOPE_FIELD } from './entry';

/**
 * XADDs every argument to one stream inside a single script call and returns the ids in order.
 * Why a script rather than a pipeline of XADDs: the client builds one command instead of one per
 * message (in Node that per-command cost, not Redis, was the bottleneck: ~40k msg/s pipelined vs
 * several hundred thousand this way, see bench:publish), and a script runs atomically, so after a
 * lost reply a batch was stored whole or not at all, never half.
 */
const XADD_BATCH_SCRIPT = `
local ids = {}
for i = 1, #ARGV do
  ids[i] = redis.call('XADD', KEYS[1], '*', '${ENVELOPE_FIELD}', ARGV[i])
end
return ids
`;

interface XaddBatchRedis extends Redis {
  mupetsXaddBatch(key: string, ...jsons: string[]): Promise<string[]>;
}

/** Registers the script on a connection (EVALSHA, falling back to EVAL after a server restart). */
export function defineXaddBatch(redis: Redis): void {
  redis.defineCommand('mupetsXaddBatch', { numberOfKeys: 1, lua: XADD_BATCH_SCRIPT });
}

/** XADDs `jsons` to `key` in one call; needs `defineXaddBatch` on the connection first. */
export function xaddBatch(redis: Redis, key: string, jsons: string[]): Promise<string[]> {
  return (redis as XaddBatchRedis).mupetsXaddBatch(key, ...jsons);
}
