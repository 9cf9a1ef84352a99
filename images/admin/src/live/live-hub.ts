import type { Broker, StreamEntry, Tail } from '@mupets/broker';
import type { AppLogger } from '../logger';

/** Where a follower is handed what the shared tail reads, and told when it failed. */
export interface HubFollower {
  entry(entry: StreamEntry): void;
  failed(error: unknown): void;
}

export interface HubMembership {
  /** The id the follower starts after: the one it asked for, or the hub's newest. */
  readonly fromId: string;
  /** Stops handing entries to the follower; the last one out closes the tail. */
  leave(): void;
}

export interface LiveHubOptions {
  /** Entries kept per channel, so a client that reconnects with a recent cursor joins again. */
  recent?: number;
  blockMs?: number;
}

interface ChannelFeed {
  /** Settles once the start position is read and the tail is open; rejects if the read failed. */
  ready: Promise<void>;
  tail?: Tail;
  readonly followers: Set<HubFollower>;
  /** The newest entries read, oldest first. */
  readonly recent: StreamEntry[];
  /** The id of the newest entry read (or the start position before any). */
  lastId: string;
  closed: boolean;
}

/**
 * One broker tail per channel, whatever the number of browsers following it (issue 14, item 4):
 * every live stream that starts at the channel's newest entry, or at one of the last entries the
 * tail read, joins the channel's feed; the feed hands each entry to all of them as it reads it and
 * waits for none (a follower that cannot keep up leaves and reads on its own). Ids are only compared
 * for equality, never parsed: a cursor the feed does not know gets `undefined`, and the caller
 * follows the channel with a tail of its own, as before.
 */
export class LiveHub {
  private readonly feeds = new Map<string, ChannelFeed>();
  private readonly recent: number;

  constructor(
    private readonly broker: Pick<Broker, 'tail' | 'range'>,
    private readonly logger: AppLogger,
    private readonly options: LiveHubOptions = {},
  ) {
    this.recent = options.recent ?? 1000;
  }

  /**
   * Joins the channel's feed after `fromId` (undefined: after its newest entry), handing the
   * follower the recent entries after it at once. Undefined when the feed does not know `fromId`.
   */
  async join(channel: string, fromId: string | undefined, follower: HubFollower): Promise<HubMembership | undefined> {
    for (;;) {
      let feed = this.feeds.get(channel);
      if (!feed) {
        feed = this.open(channel);
        this.feeds.set(channel, feed);
      }
      await feed.ready;
      if (feed.closed) {
        continue; // its last follower left, or its tail failed, while this one waited: open anew
      }
      let backlog: StreamEntry[] = [];
      if (fromId !== undefined && fromId !== feed.lastId) {
        const at = feed.recent.findIndex((entry) => entry.id === fromId);
        if (at < 0) {
          this.closeIfUnused(channel, feed);
          return undefined;
        }
        backlog = feed.recent.slice(at + 1);
      }
      const joined = feed;
      joined.followers.add(follower);
      backlog.forEach((entry) => follower.entry(entry));
      return {
        fromId: fromId ?? joined.lastId,
        leave: () => {
          if (joined.followers.delete(follower)) {
            this.closeIfUnused(channel, joined);
          }
        },
      };
    }
  }

  /** Feeds open now (one tail each). */
  get size(): number {
    return this.feeds.size;
  }

  private open(channel: string): ChannelFeed {
    const feed: ChannelFeed = {
      ready: Promise.resolve(),
      followers: new Set(),
      recent: [],
      lastId: '0',
      closed: false,
    };
    feed.ready = (async () => {
      try {
        // start at the newest entry stored now, by its id: a follower's cursor is then concrete at once
        const [newest] = await this.broker.range(channel, { reverse: true, count: 1 });
        feed.lastId = newest?.id ?? '0';
        feed.tail = this.broker.tail(channel, { fromId: feed.lastId, blockMs: this.options.blockMs ?? 5000 });
        void this.read(channel, feed, feed.tail);
      } catch (error) {
        this.drop(channel, feed);
        throw error;
      }
    })();
    return feed;
  }

  private async read(channel: string, feed: ChannelFeed, tail: Tail): Promise<void> {
    try {
      for await (const entry of tail) {
        feed.lastId = entry.id;
        feed.recent.push(entry);
        if (feed.recent.length > this.recent * 2) {
          feed.recent.splice(0, feed.recent.length - this.recent);
        }
        for (const follower of [...feed.followers]) {
          follower.entry(entry);
        }
      }
    } catch (error) {
      if (feed.closed) {
        return;
      }
      this.logger.warn('live tail failed; closing the streams that follow it', { channel, error });
      const followers = [...feed.followers];
      this.drop(channel, feed);
      followers.forEach((follower) => follower.failed(error));
    }
  }

  private closeIfUnused(channel: string, feed: ChannelFeed): void {
    if (feed.followers.size === 0) {
      this.drop(channel, feed);
    }
  }

  private drop(channel: string, feed: ChannelFeed): void {
    feed.closed = true;
    feed.followers.clear();
    if (this.feeds.get(channel) === feed) {
      this.feeds.delete(channel);
    }
    void feed.tail?.close().catch(() => undefined);
  }
}
