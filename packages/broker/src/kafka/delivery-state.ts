/**
 * What a consumer group records beside its committed offset, per partition, in the commit's metadata
 * string. Kafka keeps only the offset of the first entry not yet acked; the rest of what the broker
 * contract reports (which entries were delivered and not acked yet, how often each was delivered,
 * how old the oldest is) travels here. A consumer writes it before it hands a batch to its handler
 * and again when it acks, so whoever takes the partition over after a crash knows which entries come
 * back for a second time.
 */
export interface DeliveryState {
  /** Entries below this offset have been delivered to the group at least once. */
  readonly deliveredUpTo: bigint;
  /** How often an entry at or above the committed offset was delivered, where more than once. */
  readonly counts: ReadonlyMap<bigint, number>;
  /** When the oldest delivered, un-acked entry was published (ms since the epoch). */
  readonly oldestPendingTs?: number;
  /** When the newest delivered entry was published (ms since the epoch). */
  readonly lastDeliveredTs?: number;
}

// Kafka refuses commit metadata over offset.metadata.max.bytes (4096 by default)
const MAX_CHARS = 3000;
const VERSION = 1;

interface Encoded {
  v: number;
  u: string;
  c?: Record<string, number>;
  o?: number;
  l?: number;
}

/**
 * Serializes the state in a few hundred bytes at most. When there are too many counts to fit, the
 * ones for the highest offsets are left out (those entries then count as delivered once).
 */
export function encodeDeliveryState(state: DeliveryState): string {
  const encoded: Encoded = { v: VERSION, u: state.deliveredUpTo.toString() };
  if (state.oldestPendingTs !== undefined) {
    encoded.o = state.oldestPendingTs;
  }
  if (state.lastDeliveredTs !== undefined) {
    encoded.l = state.lastDeliveredTs;
  }
  const counts = [...state.counts].filter(([, count]) => count > 1).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let json = JSON.stringify(encoded);
  let kept = counts.length;
  while (kept > 0) {
    const candidate = JSON.stringify({
      ...encoded,
      c: Object.fromEntries(counts.slice(0, kept).map(([o, n]) => [String(o), n])),
    });
    if (candidate.length <= MAX_CHARS) {
      json = candidate;
      break;
    }
    kept = Math.floor(kept / 2);
  }
  return json;
}

/** Reads the state back; anything else (another client's metadata, none at all) is undefined. */
export function decodeDeliveryState(text: string | null | undefined): DeliveryState | undefined {
  if (!text) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isEncoded(parsed)) {
    return undefined;
  }
  const counts = new Map<bigint, number>();
  for (const [offset, count] of Object.entries(parsed.c ?? {})) {
    if (/^\d+$/.test(offset) && Number.isInteger(count) && count > 1) {
      counts.set(BigInt(offset), count);
    }
  }
  return {
    deliveredUpTo: BigInt(parsed.u),
    counts,
    ...(typeof parsed.o === 'number' ? { oldestPendingTs: parsed.o } : {}),
    ...(typeof parsed.l === 'number' ? { lastDeliveredTs: parsed.l } : {}),
  };
}

function isEncoded(value: unknown): value is Encoded {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  const candidate = value as Partial<Encoded>;
  return (
    candidate.v === VERSION &&
    typeof candidate.u === 'string' &&
    /^\d+$/.test(candidate.u) &&
    (candidate.c === undefined || (typeof candidate.c === 'object' && candidate.c !== null))
  );
}
