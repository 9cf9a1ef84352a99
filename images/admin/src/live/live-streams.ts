/** A long-lived response (SSE): closed by the server at shutdown. */
export interface OpenStream {
  close(): Promise<void>;
}

export interface LiveStreamsOptions {
  /** Streams one session may hold open at once. Default: no cap. */
  maxPerOwner?: number;
  /** Streams open at once, all sessions together. Default: no cap. */
  maxTotal?: number;
}

/**
 * The SSE streams open right now, each with the session that opened it. HTTP server close waits
 * for every response to end, and an SSE response never ends by itself: shutdown closes them here
 * first; logout closes those of its session.
 */
export class LiveStreams {
  private readonly open = new Map<OpenStream, string | undefined>();
  private closing = false;

  constructor(private readonly options: LiveStreamsOptions = {}) {}

  get size(): number {
    return this.open.size;
  }

  /** Whether `owner` may open one more stream now (the caps); check before answering 200. */
  hasRoomFor(owner: string | undefined): boolean {
    const { maxPerOwner = Infinity, maxTotal = Infinity } = this.options;
    if (this.open.size >= maxTotal) {
      return false;
    }
    let held = 0;
    for (const holder of this.open.values()) {
      if (holder !== undefined && holder === owner) {
        held++;
      }
    }
    return held < maxPerOwner;
  }

  /** Registers a stream; false (and the caller must end it) when shutting down already. */
  add(stream: OpenStream, owner?: string): boolean {
    if (this.closing) {
      return false;
    }
    this.open.set(stream, owner);
    return true;
  }

  delete(stream: OpenStream): void {
    this.open.delete(stream);
  }

  /** Ends every stream `owner` opened (its session ended). */
  async closeOwnedBy(owner: string): Promise<void> {
    const owned = [...this.open].filter(([, holder]) => holder === owner).map(([stream]) => stream);
    await Promise.all(owned.map((stream) => stream.close()));
  }

  /** Ends every stream and refuses new ones. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.open.keys()].map((stream) => stream.close()));
    this.open.clear();
  }
}
