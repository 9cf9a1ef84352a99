import type { Envelope } from './envelope.schema';

/** Suffix of a channel's dead-letter channel. */
export const DEAD_LETTER_SUFFIX = '.dead';

/** Where a dead letter came from and why it is dead. */
export interface DeadLetterSource {
  readonly channel: string;
  readonly deadLetterChannel: string;
  /** The broker id of the failed entry. */
  readonly id: string;
  readonly group: string;
  readonly consumer: string;
  /** Deliveries the entry had when it was given up. */
  readonly deliveries: number;
  readonly error: unknown;
  /** The entry's envelope, or (when it was not a valid envelope) what the entry held instead. */
  readonly original: { readonly envelope?: Envelope; readonly fields?: readonly string[] | null };
}

/**
 * The envelope a dead letter carries, the same for every backend. Its id is derived from the entry
 * and the group, so a dead letter written twice (a crash between writing it and acking the entry)
 * is recognisably the same one.
 */
export function deadLetterEnvelope(source: DeadLetterSource): Envelope {
  const { channel, id, group, deliveries, error, original } = source;
  return {
    id: `${channel}:${id}:${group}`,
    channel: source.deadLetterChannel,
    type: 'dead-letter',
    ts: new Date().toISOString(),
    source: { service: group, instance: source.consumer },
    level: 'error',
    message: errorMessage(error),
    data: {
      originalChannel: channel,
      originalId: id,
      group,
      deliveries,
      error: describeError(error),
      ...(original.envelope ? { envelope: original.envelope } : { rawFields: original.fields }),
    },
    v: 1,
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An error as plain data: name, message, validation issues and stack. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const described: Record<string, unknown> = { name: error.name, message: error.message };
    if ('issues' in error) {
      described.issues = (error as { issues: unknown }).issues;
    }
    if (error.stack) {
      described.stack = error.stack;
    }
    return described;
  }
  return { message: String(error) };
}
