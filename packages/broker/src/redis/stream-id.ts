/** Redis stream entry ids (`<ms>-<seq>`): parse, compare, step. */

export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

const ID_RE = /^(\d+)-(\d+)$/;

export function isStreamId(id: string): boolean {
  return ID_RE.test(id);
}

export function parseStreamId(id: string): StreamId {
  const match = ID_RE.exec(id);
  if (!match) {
    throw new TypeError(`not a stream id: ${JSON.stringify(id)}`);
  }
  return { ms: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (x.ms !== y.ms) {
    return x.ms < y.ms ? -1 : 1;
  }
  return x.seq === y.seq ? 0 : x.seq < y.seq ? -1 : 1;
}

/** Milliseconds since the epoch at which the entry was added. */
export function streamIdTime(id: string): number {
  return Number(parseStreamId(id).ms);
}
