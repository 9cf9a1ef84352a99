import type { Broker, ChannelStats, Envelope, MessageInput } from '@mupets/broker';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { PublishAudit } from '../audit';
import { HttpError, notFound, parseInput } from '../http/http-error';
import { entryId, groupName, queryInt } from '../http/input-schemas';
import type { AppLogger } from '../logger';

export interface BrokerRoutesOptions {
  broker: Pick<Broker, 'stats' | 'range' | 'remove' | 'publish' | 'deadLetterChannel' | 'removeGroup'>;
  backend: 'redis' | 'kafka';
  /** The channels shown; dead letters are listed and replayed for these only. */
  channels: readonly string[];
  publishAudit: PublishAudit;
  logger: AppLogger;
}

/** What `GET /api/broker` answers: each channel's stats and its dead letters' count. */
export interface BrokerOverview {
  readonly backend: 'redis' | 'kafka';
  readonly channels: ReadonlyArray<ChannelStats & { readonly deadLetters: number }>;
}

/** What `GET /api/broker/:channel/dead-letters` answers, newest first. */
export interface DeadLetterList {
  readonly deadLetters: readonly DeadLetterView[];
}

/** What replaying a dead letter answers: the replayed entry's broker id, and whether the dead letter went. */
export interface ReplayResult {
  readonly brokerId: string;
  readonly removed: boolean;
}

/** A dead letter as the API shows it. */
export interface DeadLetterView {
  readonly id: string;
  readonly ts: string;
  readonly originalId: string | null;
  readonly group: string | null;
  readonly deliveries: number | null;
  readonly error: { name?: string; message?: string; issues?: unknown } | null;
  /** The original envelope; null when the entry was not a valid envelope (then `rawFields` holds it). */
  readonly envelope: Envelope | null;
  readonly rawFields?: unknown;
}

const listQuery = z.strictObject({ limit: queryInt(1, 1000).optional() });

/** `GET /api/broker`, dead letters and their replay, removing a retired consumer group. */
export function createBrokerRouter(options: BrokerRoutesOptions): Router {
  const { broker } = options;
  const channelParam = z.strictObject({
    channel: z.string().refine((channel) => options.channels.includes(channel), 'not a channel of this admin'),
  });
  const replayParams = channelParam.extend({ id: entryId });
  const groupParams = channelParam.extend({ group: groupName });
  const knownChannel = (params: { channel?: unknown }): string => {
    const parsed = channelParam.safeParse({ channel: params.channel });
    if (!parsed.success) {
      throw notFound('channel');
    }
    return parsed.data.channel;
  };

  const router = express.Router();
  router.get('/', async (_request, response) => {
    const channels = await Promise.all(
      options.channels.map(async (channel) => {
        const [stats, dead] = await Promise.all([
          broker.stats(channel),
          broker.stats(broker.deadLetterChannel(channel)),
        ]);
        return { ...stats, deadLetters: dead.length };
      }),
    );
    response.json({ backend: options.backend, channels } satisfies BrokerOverview);
  });

  router.get('/:channel/dead-letters', async (request, response) => {
    const channel = knownChannel(request.params);
    const { limit } = parseInput(listQuery, request.query, 'query');
    const entries = await broker.range(broker.deadLetterChannel(channel), { reverse: true, count: limit ?? 100 });
    response.json({
      deadLetters: entries.map((entry) => deadLetterView(entry.id, entry.envelope)),
    } satisfies DeadLetterList);
  });

  router.post('/:channel/dead-letters/:id/replay', async (request, response) => {
    knownChannel(request.params);
    const { channel, id } = parseInput(replayParams, request.params, 'params');
    const deadLetterChannel = broker.deadLetterChannel(channel);
    const [entry] = await broker.range(deadLetterChannel, { start: id, end: id, count: 1 });
    if (!entry || entry.id !== id) {
      throw notFound('dead letter');
    }
    const original = deadLetterView(entry.id, entry.envelope).envelope;
    if (!original) {
      throw new HttpError(409, 'not_replayable', 'the dead letter holds no valid envelope to publish again');
    }
    // the same envelope id: the archive writes a message once, however often it is replayed
    const brokerId = await broker.publish(channel, replayInput(original));
    const removed = (await broker.remove(deadLetterChannel, [id])) > 0;
    options
      .publishAudit('dead-letter.replay', `${channel}/${id}`, { brokerId, removed, envelopeId: original.id })
      .catch((error: unknown) => {
        options.logger.error('audit event not stored', { action: 'dead-letter.replay', error });
      });
    response.status(202).json({ brokerId, removed } satisfies ReplayResult);
  });

  // a retired service's group holds trimming back for good (docs/admin-api.md); one still read is refused
  router.delete('/:channel/groups/:group', async (request, response) => {
    knownChannel(request.params);
    const { channel, group } = parseInput(groupParams, request.params, 'params');
    const result = await broker.removeGroup(channel, group);
    if (result === 'not_found') {
      throw notFound('consumer group');
    }
    if (result === 'in_use') {
      throw new HttpError(409, 'group_in_use', 'a consumer of this group read within the last minute: stop it first');
    }
    options.publishAudit('broker.group.remove', `${channel}/${group}`).catch((error: unknown) => {
      options.logger.error('audit event not stored', { action: 'broker.group.remove', error });
    });
    response.status(204).end();
  });
  return router;
}

function replayInput(envelope: Envelope): MessageInput {
  const { id, ts, type, source, level, message, data } = envelope;
  return {
    id,
    ts,
    type,
    source,
    ...(level ? { level } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(data ? { data } : {}),
  };
}

/** A dead-letter envelope's data as the API shows it (the error's stack stays on the server). */
export function deadLetterView(id: string, envelope: Envelope): DeadLetterView {
  const data = envelope.data ?? {};
  const error = isObject(data.error)
    ? {
        ...(typeof data.error.name === 'string' ? { name: data.error.name } : {}),
        ...(typeof data.error.message === 'string' ? { message: data.error.message } : {}),
        ...(data.error.issues !== undefined ? { issues: data.error.issues } : {}),
      }
    : null;
  const original = isObject(data.envelope) ? (data.envelope as unknown as Envelope) : null;
  return {
    id,
    ts: envelope.ts,
    originalId: typeof data.originalId === 'string' ? data.originalId : null,
    group: typeof data.group === 'string' ? data.group : null,
    deliveries: typeof data.deliveries === 'number' ? data.deliveries : null,
    error,
    envelope: original,
    ...(original ? {} : { rawFields: data.rawFields ?? null }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
