/** A long-lived response (SSE): closed by the server at shutdown. */
export interface OpenStream {
  close(): Promise<void>;
}

/**
 * The SSE streams open right now. HTTP server close waits for every response to end, and an SSE
 * response never ends by itself: shutdown closes them here first.
 */
export class LiveStreams {
  private readonly open = new Set<OpenStream>();
  private closing = false;

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream; false (and the caller must end it) when shutting down already. */
  add(stream: OpenStream): boolean {
    if (this.closing) {
      return false;
    }
    this.open.add(stream);
    return true;
  }

  delete(stream: OpenStream): void {
    this.open.delete(stream);
  }

  /** Ends every stream and refuses new ones. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.open].map((stream) => stream.close()));
    this.open.clear();
  }
}
