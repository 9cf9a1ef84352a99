import { createHash } from 'node:crypto';
import type { Broker, Consumer, Delivery, HandlerFailure, MessageInput } from '@mupets/broker';
import type { ServiceLogger } from '@mupets/cargo';
import { GREETED, GREETING_REQUESTED, greet, greetingRequestSchema } from './greeting';

export interface GreeterOptions {
  broker: Pick<Broker, 'consume' | 'publish'>;
  logger: ServiceLogger;
  /** This service's name, the `source.service` of what it publishes. */
  service: string;
  /** The channel read, in consumer group `group`. */
  channel: string;
  group: string;
  /** Where each greeting is published. */
  eventsChannel: string;
  /** Deliveries after which an entry that keeps failing is dead-lettered. Default 5. */
  maxDeliveries?: number;
}

/**
 * Consumes greeting requests in the service's own consumer group and publishes one greeting per
 * request. Returning from the handler acks the batch; an entry listed in `failed` is retried (or
 * dead-lettered at once with `deadLetter`); throwing makes the broker retry each entry alone.
 */
export function startGreeter(options: GreeterOptions): Consumer {
  const { broker, logger } = options;
  return broker.consume(
    options.channel,
    options.group,
    async (batch) => {
      const failed: HandlerFailure[] = [];
      const greetings: MessageInput[] = [];
      for (const delivery of batch) {
        // a shared channel carries other services' messages too: acked here, handled by their owners
        if (delivery.envelope.type !== GREETING_REQUESTED) {
          continue;
        }
        const request = greetingRequestSchema.safeParse(delivery.envelope.data ?? {});
        if (!request.success) {
          // bad data never gets better: straight to the dead-letter channel, with the reason
          const reason = request.error.issues.map((issue) => `data.${issue.path.join('.')}: ${issue.message}`);
          failed.push({ id: delivery.id, error: new Error(reason.join('; ')), deadLetter: true });
          continue;
        }
        greetings.push({
          id: resultId(delivery),
          type: GREETED,
          source: { service: options.service },
          message: greet(request.data),
          data: { requestId: delivery.envelope.id, name: request.data.name },
        });
      }
      if (greetings.length > 0) {
        // rejects when the broker could not store them: the batch is then delivered again
        await broker.publish(options.eventsChannel, greetings);
        logger.info('greetings published', { count: greetings.length, channel: options.eventsChannel });
      }
      return { failed };
    },
    { maxDeliveries: options.maxDeliveries ?? 5 },
  );
}

/**
 * Delivery is at least once: after a crash a request may be handled twice. The result's id is
 * derived from the request's `envelope.id`, so both copies carry the same id and an idempotent
 * store (the archive's unique key is channel + id) keeps one.
 */
function resultId(delivery: Delivery): string {
  return createHash('sha256').update(`${GREETED}:${delivery.envelope.id}`).digest('hex').slice(0, 32);
}
