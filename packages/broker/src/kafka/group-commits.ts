import { Connection, FindCoordinatorKeyTypes, offsetCommitV8, type Admin } from '@platformatic/kafka';
import type { KafkaCredentials } from './client';
import { encodeDeliveryState, type DeliveryState } from './delivery-state';

/** One partition's new committed offset and the delivery state that goes with it. */
export interface PartitionCommit {
  readonly partition: number;
  readonly offset: bigint;
  readonly state: DeliveryState;
}

/** Who commits: the member's current generation of the group. */
export interface Membership {
  readonly generationId: number;
  readonly memberId: string;
}

/**
 * Commits a group's offsets together with their delivery state. The client's own `commit()` sends
 * no metadata, so this sends the OffsetCommit request itself (v8: Kafka 2.3 to 4.x), on its own
 * connection to the group coordinator: never queued behind the client's JoinGroup, which the
 * coordinator holds until a rebalance completes. The coordinator refuses a commit from a member
 * whose generation is over, so a consumer that lost its partitions cannot move their offsets.
 */
export class GroupCommitter {
  private connection: Connection | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly clientId: string,
    /** The SASL login of the broker's other clients: a cluster with users refuses this connection without it. */
    private readonly sasl?: KafkaCredentials,
  ) {}

  async commit(commits: readonly PartitionCommit[], membership: Membership): Promise<void> {
    if (commits.length === 0) {
      return;
    }
    const connection = await this.connect();
    try {
      await offsetCommitV8.api.async(connection, this.groupId, membership.generationId, membership.memberId, null, [
        {
          name: this.topic,
          partitions: commits.map(({ partition, offset, state }) => ({
            partitionIndex: partition,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            committedMetadata: encodeDeliveryState(state),
          })),
        },
      ]);
    } catch (error) {
      // the coordinator may have moved or the connection dropped: look it up again next time
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async connect(): Promise<Connection> {
    if (this.connection?.isConnected()) {
      return this.connection;
    }
    await this.close();
    const [coordinator] = await this.admin.findCoordinator({
      keyType: FindCoordinatorKeyTypes.GROUP,
      keys: [this.groupId],
    });
    if (!coordinator) {
      throw new Error(`no coordinator for kafka group ${this.groupId}`);
    }
    const connection = new Connection(this.clientId, {
      connectTimeout: 5000,
      ...(this.sasl ? { sasl: { ...this.sasl } } : {}),
    });
    // failures surface as rejected requests; the event would otherwise be thrown
    connection.on('error', () => undefined);
    await connection.connect(coordinator.host, coordinator.port);
    this.connection = connection;
    return connection;
  }
}
