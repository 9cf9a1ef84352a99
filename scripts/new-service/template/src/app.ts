import { randomUUID, timingSafeEqual } from 'node:crypto';
import {
  BrokerBackpressureError,
  BrokerClosedError,
  BrokerUnavailableError,
  EnvelopeValidationError,
  type Broker,
} from '@mupets/broker';
import type { ServiceLogger } from '@mupets/cargo';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { GREETING_REQUESTED, greetingRequestSchema } from './greeting';

export interface AppOptions {
  broker: Pick<Broker, 'publish'>;
  logger: ServiceLogger;
  /** This service's name, the `source.service` of what it publishes. */
  service: string;
  /** Where greeting requests are published. */
  channel: string;
  /** The bearer token every request must carry. */
  apiToken: string;
}

/**
 * The HTTP API (builds, never listens). `POST /api/greetings {"name": "Ada"}` publishes a greeting
 * request and answers 202 once the broker has stored it, with its envelope id and broker id; when
 * the broker cannot store it the caller gets 503 and knows to retry: nothing is lost in silence.
 */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));
  app.use('/api', requireToken(options.apiToken));
  app.post('/api/greetings', async (request, response) => {
    const parsed = greetingRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || 'body',
        rule: issue.code,
        message: issue.message,
      }));
      response.status(400).json({ error: 'invalid_input', issues });
      return;
    }
    // the envelope id is the idempotency key of everything done for this request downstream
    const id = randomUUID();
    const brokerId = await options.broker.publish(options.channel, {
      id,
      type: GREETING_REQUESTED,
      source: { service: options.service },
      message: 'greeting requested',
      data: parsed.data,
    });
    response.status(202).json({ id, brokerId, channel: options.channel });
  });
  app.use((_request, response) => {
    response.status(404).json({ error: 'not_found' });
  });
  app.use(errorHandler(options.logger));
  return app;
}

function requireToken(token: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return (request, response, next) => {
    const given = Buffer.from(request.get('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      response.status(401).json({ error: 'unauthorized' });
      return;
    }
    next();
  };
}

/** Expected failures get their status; anything else is a bug: 500, logged, no details sent. */
function errorHandler(logger: ServiceLogger): ErrorRequestHandler {
  return (error: unknown, _request, response, _next) => {
    const type = (error as { type?: unknown } | null)?.type;
    if (type === 'entity.parse.failed') {
      response
        .status(400)
        .json({ error: 'invalid_input', issues: [{ field: 'body', rule: 'json', message: 'not JSON' }] });
    } else if (type === 'entity.too.large') {
      response.status(413).json({ error: 'body_too_large' });
    } else if (error instanceof EnvelopeValidationError) {
      response.status(400).json({ error: 'invalid_input', issues: error.issues });
    } else if (
      error instanceof BrokerUnavailableError ||
      error instanceof BrokerBackpressureError ||
      error instanceof BrokerClosedError
    ) {
      logger.warn('request refused, broker unavailable', { error });
      response.status(503).json({ error: 'broker_unavailable' });
    } else {
      logger.error('request failed', { error });
      response.status(500).json({ error: 'internal' });
    }
  };
}
