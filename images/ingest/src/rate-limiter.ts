/**
 * A token bucket per API token, in records per second, in this process's memory: each replica of
 * the ingest limits on its own. The bucket holds one second of records. A request is admitted
 * while the bucket is not empty and then charged its whole batch, so the bucket may go below zero:
 * a batch larger than a second's worth still gets through once, and the token waits it off.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { level: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Seconds until the token may send again, or 0 when it may now. */
  retryAfter(key: string, ratePerSecond: number): number {
    const level = this.refill(key, ratePerSecond).level;
    return level > 0 ? 0 : Math.max(1, Math.ceil((1 - level) / ratePerSecond));
  }

  /** Takes `records` from the token's bucket. */
  charge(key: string, ratePerSecond: number, records: number): void {
    this.refill(key, ratePerSecond).level -= records;
  }

  private refill(key: string, ratePerSecond: number): { level: number; at: number } {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { level: ratePerSecond, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.level = Math.min(ratePerSecond, bucket.level + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
    return bucket;
  }
}
