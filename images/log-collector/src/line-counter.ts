import { toNanos } from './docker-time';
import type { LogPosition } from './position-store';

/** Positions the lines of one log stream and says which were published before. */
export interface LineCounter {
  /** The position of the next line, stamped `ts`, and whether it was published already. */
  next(ts: string): { position: LogPosition; published: boolean };
}

/**
 * Docker stamps lines with nanoseconds, yet several lines can share a stamp; a line's position is
 * its stamp and its rank among the lines with that stamp (1, 2, ...). A stream read from `since`
 * = the resume position's time starts with every line of that time (Docker's `since` is inclusive;
 * an engine that rounds it to seconds sends earlier lines too): those up to the resume position
 * were published and are skipped, so lines sharing a stamp are neither lost nor doubled.
 */
export function createLineCounter(resume: LogPosition | undefined): LineCounter {
  const from = resume ? { ns: toNanos(resume.ts), n: resume.n } : undefined;
  // past the resume position nothing is skipped any more, and stamps need no parsing: Docker writes
  // equal times as equal strings
  let skipping = from !== undefined;
  let last: { ns: bigint | undefined; ts: string; n: number } | undefined;
  return {
    next(ts) {
      if (last && ts === last.ts) {
        last = { ns: last.ns, ts, n: last.n + 1 };
      } else if (skipping) {
        const ns = toNanos(ts);
        last = last && last.ns === ns ? { ns, ts: last.ts, n: last.n + 1 } : { ns, ts, n: 1 };
      } else {
        last = { ns: undefined, ts, n: 1 };
      }
      let published = false;
      if (skipping && from && last.ns !== undefined) {
        published = last.ns < from.ns || (last.ns === from.ns && last.n <= from.n);
        skipping = last.ns <= from.ns;
      }
      return { position: { ts: last.ts, n: last.n }, published };
    },
  };
}
