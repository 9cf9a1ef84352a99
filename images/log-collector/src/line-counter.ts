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
  let last: { ns: bigint; ts: string; n: number } | undefined;
  return {
    next(ts) {
      const ns = toNanos(ts);
      last = last && ns === last.ns ? { ns, ts: last.ts, n: last.n + 1 } : { ns, ts, n: 1 };
      const published = from !== undefined && (ns < from.ns || (ns === from.ns && last.n <= from.n));
      return { position: { ts: last.ts, n: last.n }, published };
    },
  };
}
