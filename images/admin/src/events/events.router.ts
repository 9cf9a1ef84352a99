import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Broker } from '@mupets/broker';
import express, { type Router } from 'express';
import { z } from 'zod';
import { AUDIT_CHANNEL, isReservedEventType, type PublishAudit } from '../audit';
import { parseInput } from '../http/http-error';
import { identifier, level } from '../http/input-schemas';
import type { AppLogger } from '../logger';

export interface EventsOptions {
  broker: Pick<Broker, 'publish'>;
  /** Channels an event may be submitted to; the first is the default. */
  channels: readonly string[];
  publishAudit: PublishAudit;
  logger: AppLogger;
}

/** What `POST /api/events` answers (202): the event's id, its broker id and its channel. */
export interface SubmittedEvent {
  readonly id: string;
  readonly brokerId: string;
  readonly channel: string;
}

/** `POST /api/events`: an arbitrary event, validated here and again (the envelope) by the broker. */
export function createEventsRouter(options: EventsOptions): Router {
  const defaultChannel = options.channels.includes('events') ? 'events' : options.channels[0]!;
  const bodySchema = z.strictObject({
    channel: z
      .string()
      .refine((channel) => options.channels.includes(channel), `must be one of ${options.channels.join(', ')}`)
      .refine((channel) => channel !== AUDIT_CHANNEL, `"${AUDIT_CHANNEL}" holds the admin's own audit records`)
      .optional(),
    type: identifier.refine((type) => !isReservedEventType(type), "admin.* types are the admin's own (audit)"),
    data: z.record(z.string(), z.unknown()).optional(),
    level: level.optional(),
    message: z.string().max(16_384).optional(),
  });
  const instance = hostname();
  const router = express.Router();
  router.post('/', async (request, response) => {
    const body = parseInput(bodySchema, request.body ?? {}, 'body');
    const channel = body.channel ?? defaultChannel;
    const id = randomUUID();
    const brokerId = await options.broker.publish(channel, {
      id,
      type: body.type,
      source: { service: 'admin', instance },
      ...(body.level ? { level: body.level } : {}),
      ...(body.message !== undefined ? { message: body.message } : {}),
      ...(body.data ? { data: body.data } : {}),
    });
    options.publishAudit('event.submit', `${channel}/${id}`, { brokerId, type: body.type }).catch((error: unknown) => {
      options.logger.error('audit event not stored', { action: 'event.submit', error });
    });
    response.status(202).json({ id, brokerId, channel } satisfies SubmittedEvent);
  });
  return router;
}
