import type { RangeOptions, ReplayOptions } from './types';

export const DEFAULT_RANGE_COUNT = 100;
export const MAX_RANGE_COUNT = 10_000;

const ID_RE = /^\d{1,20}-\d{1,20}$/;

export interface ResolvedRange {
  readonly start: string | undefined;
  readonly end: string | undefined;
  readonly count: number;
  readonly reverse: boolean;
}

/** Checks `range()` options; throws RangeError naming the option and the rule. */
export function resolveRange(options: RangeOptions = {}): ResolvedRange {
  const count = checkedCount('range', options.count ?? DEFAULT_RANGE_COUNT);
  for (const name of ['start', 'end'] as const) {
    const id = options[name];
    if (id !== undefined && !ID_RE.test(id)) {
      throw new RangeError(`range ${name} must be an entry id like 1732000000000-0, got ${JSON.stringify(id)}`);
    }
  }
  return { start: options.start, end: options.end, count, reverse: options.reverse ?? false };
}

/** Checks `replay()` options; throws RangeError naming the option and the rule. */
export function resolveReplay(options: ReplayOptions): { windowMs: number; count: number } {
  const { windowMs } = options;
  if (!Number.isInteger(windowMs) || windowMs < 0) {
    throw new RangeError(`replay windowMs must be an integer >= 0, got ${windowMs}`);
  }
  return { windowMs, count: checkedCount('replay', options.count ?? 500) };
}

/** Entries per read: an integer from 1 to MAX_RANGE_COUNT, or a RangeError naming the call. */
function checkedCount(call: string, count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_RANGE_COUNT) {
    throw new RangeError(`${call} count must be an integer from 1 to ${MAX_RANGE_COUNT}, got ${count}`);
  }
  return count;
}
