import { COUNT_CLASS } from './schema';

/**
 * How many (service, level, type) combinations of one channel a writer counts on rows of their own
 * per minute. A type or service with an id in it (`order.8812.created`) would otherwise add a row
 * per record; past the bound, the minute's other records are counted on one overflow row, and a
 * count filtered on service, level or type counts that minute's records instead (query.ts).
 */
export const COUNT_COMBINATIONS_PER_MINUTE = 1000;
/** Minutes (per writer and channel) whose combinations are remembered; live traffic needs a few. */
const MINUTES_KEPT = 64;

export interface CountDims {
  readonly service: string;
  readonly level: string;
  readonly type: string;
}

/** What a count row counts: one combination, a channel's total, or the combinations past the bound. */
type CountRow = CountDims | 'total' | 'overflow';

/**
 * The unique key of a MessageCount row. `writer` keeps concurrent writers (several consumers, several
 * replicas) on rows of their own: two transactions bumping one row would make one of them fail.
 * A count is the sum over writers. `total` rows count a whole channel per minute (no service, level
 * or type), for the unfiltered chart.
 */
function countKey(bucket: string, channel: string, writer: string, row: CountRow): string {
  if (row === 'total') {
    return JSON.stringify([bucket, channel, writer]);
  }
  return JSON.stringify(
    row === 'overflow' ? [bucket, channel, writer, row] : [bucket, channel, row.service, row.level, row.type, writer],
  );
}

/**
 * Which combinations a writer has counted on rows of their own, per channel and minute: the first
 * COUNT_COMBINATIONS_PER_MINUTE are admitted, later ones are not. Keeps the most recent minutes; a
 * record of a minute long forgotten (a replay, a late producer) opens that minute's budget again,
 * so one minute can take a few bounds' worth, never one row per record.
 */
export class CountBudget {
  private readonly minutes = new Map<string, Set<string>>();

  constructor(private readonly limit = COUNT_COMBINATIONS_PER_MINUTE) {}

  admits(writer: string, bucket: string, channel: string, dims: CountDims): boolean {
    const minute = JSON.stringify([writer, bucket, channel]);
    let seen = this.minutes.get(minute);
    if (!seen) {
      seen = new Set();
      this.minutes.set(minute, seen);
      if (this.minutes.size > MINUTES_KEPT) {
        this.minutes.delete(this.minutes.keys().next().value!);
      }
    }
    const combination = JSON.stringify([dims.service, dims.level, dims.type]);
    if (seen.has(combination)) {
      return true;
    } else if (seen.size >= this.limit) {
      return false;
    }
    seen.add(combination);
    return true;
  }
}

/**
 * The count increments of one transaction, summed per row: each record bumps its combination's
 * row (or the overflow row, past the budget) and its channel's total.
 */
export class CountTally {
  private readonly bumps = new Map<string, { bucket: string; channel: string; row: CountRow; n: number }>();

  constructor(
    private readonly writer: string,
    private readonly budget: CountBudget,
  ) {}

  add(bucket: string, channel: string, dims: CountDims, n = 1): void {
    this.bump(bucket, channel, this.budget.admits(this.writer, bucket, channel, dims) ? dims : 'overflow', n);
    this.bump(bucket, channel, 'total', n);
  }

  /**
   * One UPSERT per row. Only placeholders are written into the text; the values go into `params`
   * (the writer's id as `:writer`).
   */
  statements(params: Record<string, unknown>): string[] {
    params.writer = this.writer;
    return [...this.bumps.entries()].map(([key, { bucket, channel, row, n }], i) => {
      const dims = typeof row === 'string' ? undefined : row;
      Object.assign(params, {
        [`k${i}`]: key,
        [`n${i}`]: n,
        [`b${i}`]: bucket,
        [`c${i}`]: channel,
        [`s${i}`]: dims?.service ?? '',
        [`l${i}`]: dims?.level ?? '',
        [`t${i}`]: dims?.type ?? '',
        [`a${i}`]: row === 'total',
        [`o${i}`]: row === 'overflow',
      });
      return (
        `UPDATE ${COUNT_CLASS} SET n = ifnull(n, 0) + :n${i}, bucket = :b${i}, channel = :c${i}, service = :s${i}, ` +
        `level = :l${i}, type = :t${i}, total = :a${i}, overflow = :o${i}, writer = :writer UPSERT WHERE k = :k${i};`
      );
    });
  }

  private bump(bucket: string, channel: string, row: CountRow, n: number): void {
    const key = countKey(bucket, channel, this.writer, row);
    const entry = this.bumps.get(key);
    if (entry) {
      entry.n += n;
    } else {
      this.bumps.set(key, { bucket, channel, row, n });
    }
  }
}
