import { EnvelopeValidationError, type Broker, type MessageInput } from '@mupets/broker';
import { channelViolation, messageViolation, scopeChannel, type TokenStore } from '@mupets/tokens';
import express, { type Express, type Request, type Response } from 'express';
import type { IngestConfig } from './config';
import { errorHandler, notFound } from './error-handler';
import { IngestError, invalidInput } from './ingest-error';
import type { Endpoint, IngestMetrics } from './ingest-metrics';
import { envelopeIssues, prepareNativeBatch } from './native-batch';
import { nativeFormat, parseNativeBody } from './native-body';
import { readLogsRequest } from './otlp/otlp-logs';
import { decodeLogsRequest, encodeLogsResponse, OtlpDecodeError } from './otlp/otlp-proto';
import type { RateLimiter } from './rate-limiter';
import { requireToken, tokenOf } from './token-auth';

/** The settings `createApp` reads (a loaded {@link IngestConfig} has them all). */
export type AppConfig = Pick<
  IngestConfig,
  'INGEST_BODY_LIMIT' | 'INGEST_MAX_LINE_BYTES' | 'INGEST_MAX_RECORDS' | 'INGEST_RETRY_AFTER_S' | 'INGEST_OTLP_CHANNEL'
>;

export interface AppLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

export interface AppDeps {
  config: AppConfig;
  broker: Pick<Broker, 'publish'>;
  tokens: Pick<TokenStore, 'verify'>;
  limiter: RateLimiter;
  logger: AppLogger;
  metrics?: IngestMetrics;
}

/**
 * The ingest's express app. Never listens (main.ts does). Each request: token (401), channel in
 * the token's scope (403), rate (429), media type (415), body size (413), then parsing (400), the
 * token's scope per record (403), and the broker (503). It answers 200 only once the broker has
 * confirmed the whole batch stored.
 */
export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const readBody = express.raw({ type: () => true, limit: config.INGEST_BODY_LIMIT });
  const authenticate = requireToken(deps.tokens);
  const { metrics } = deps;
  if (metrics) {
    app.use((request, response, next) => {
      const endpoint = request.path === '/v1/logs' ? 'otlp' : 'native';
      response.on('finish', () => metrics.requests.inc({ endpoint, status: String(response.statusCode) }));
      next();
    });
  }

  app.post(
    '/v1/channels/:channel/messages',
    authenticate,
    (request, _response, next) => {
      if (!nativeFormat(request.headers['content-type'])) {
        next(unsupported('application/json or application/x-ndjson'));
        return;
      }
      next();
    },
    (request, response, next) => {
      admit(response, deps, String(request.params.channel));
      next();
    },
    readBody,
    async (request, response) => {
      const channel = String(request.params.channel);
      const token = tokenOf(response);
      const body = bodyOf(request);
      const { records, lines } = parseNativeBody(body, nativeFormat(request.headers['content-type'])!, {
        maxLineBytes: config.INGEST_MAX_LINE_BYTES,
        maxRecords: config.INGEST_MAX_RECORDS,
      });
      deps.limiter.charge(token.id, token.ratePerSecond, records.length);
      const batch = prepareNativeBatch(records, lines, channel, token);
      let brokerIds: string[];
      try {
        brokerIds = await publish(deps, 'native', channel, batch.messages);
      } catch (error) {
        throw error instanceof EnvelopeValidationError ? envelopeIssues(error, lines) : error;
      }
      count(deps, 'native', brokerIds.length);
      response.json({ channel, count: brokerIds.length, ids: batch.ids, brokerIds });
    },
  );

  app.post(
    '/v1/logs',
    authenticate,
    (request, _response, next) => {
      if (!otlpFormat(request)) {
        next(unsupported('application/json or application/x-protobuf'));
        return;
      }
      next();
    },
    (_request, response, next) => {
      admit(response, deps, config.INGEST_OTLP_CHANNEL);
      next();
    },
    readBody,
    async (request, response) => {
      const token = tokenOf(response);
      const channel = config.INGEST_OTLP_CHANNEL;
      const protobuf = otlpFormat(request) === 'protobuf';
      const body = bodyOf(request);
      let decoded: unknown;
      try {
        decoded = protobuf ? decodeLogsRequest(body) : JSON.parse(body.toString('utf8'));
      } catch (error) {
        const json = !(error instanceof OtlpDecodeError);
        throw invalidInput([
          {
            field: 'body',
            rule: json ? 'json' : 'protobuf',
            message: `not a valid ExportLogsServiceRequest: ${(error as Error).message}`,
          },
        ]);
      }
      const mapped = readLogsRequest(decoded);
      if (mapped.length > config.INGEST_MAX_RECORDS) {
        throw new IngestError(
          413,
          'too_many_records',
          `${mapped.length} log records, over the limit of ${config.INGEST_MAX_RECORDS}`,
        );
      }
      deps.limiter.charge(token.id, token.ratePerSecond, mapped.length);
      // OTLP partial success: records this token may not send are refused and counted, the rest stored
      const rejections: string[] = [];
      let accepted = mapped.filter(({ message, path }) => {
        const violation = messageViolation(token, message.source.service, message.type);
        if (violation) {
          rejections.push(`${path}: ${violation.field}: ${violation.message}`);
        }
        return !violation;
      });
      if (accepted.length > 0) {
        try {
          await publish(
            deps,
            'otlp',
            channel,
            accepted.map((record) => record.message),
          );
        } catch (error) {
          if (!(error instanceof EnvelopeValidationError)) {
            throw error;
          }
          // refuse the records the envelope rules reject (named), store the others
          const bad = new Set<number>();
          for (const issue of error.issues) {
            const index = Number(/^\[(\d+)\]/.exec(issue.path)?.[1]);
            bad.add(index);
            rejections.push(
              `${accepted[index]?.path ?? '?'}: ${issue.path.replace(/^\[\d+\]\.?/, '') || 'record'}: ${issue.message}`,
            );
          }
          accepted = accepted.filter((_record, index) => !bad.has(index));
          if (accepted.length > 0) {
            await publish(
              deps,
              'otlp',
              channel,
              accepted.map((record) => record.message),
            );
          }
        }
      }
      const rejected = mapped.length - accepted.length;
      const errorMessage =
        rejections.slice(0, 10).join('; ') + (rejections.length > 10 ? `; and ${rejections.length - 10} more` : '');
      count(deps, 'otlp', accepted.length, rejected);
      if (protobuf) {
        response.type('application/x-protobuf').send(encodeLogsResponse(rejected, errorMessage));
      } else {
        response.json(rejected > 0 ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage } } : {});
      }
    },
  );

  app.use(notFound);
  app.use(errorHandler(deps.logger, config.INGEST_RETRY_AFTER_S));
  return app;
}

/** The channel is well-formed and in the token's scope, and the token has records left. */
function admit(response: Response, deps: AppDeps, channel: string): void {
  const token = tokenOf(response);
  const name = scopeChannel.safeParse(channel);
  if (!name.success) {
    throw invalidInput([{ field: 'channel', rule: 'format', message: name.error.issues[0]?.message ?? 'invalid' }]);
  }
  const violation = channelViolation(token, channel);
  if (violation) {
    throw new IngestError(403, 'forbidden', violation.message, {
      issues: [{ field: violation.field, rule: violation.rule, message: violation.message }],
    });
  }
  const wait = deps.limiter.retryAfter(token.id, token.ratePerSecond);
  if (wait > 0) {
    throw new IngestError(429, 'rate_limited', `this token's rate (${token.ratePerSecond} records/s) is used up`, {
      retryAfterS: wait,
    });
  }
}

function unsupported(expected: string): IngestError {
  return new IngestError(415, 'unsupported_media_type', `Content-Type must be ${expected}`);
}

function otlpFormat(request: Request): 'json' | 'protobuf' | undefined {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' ? 'json' : type === 'application/x-protobuf' ? 'protobuf' : undefined;
}

function bodyOf(request: Request): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

async function publish(
  deps: AppDeps,
  endpoint: Endpoint,
  channel: string,
  messages: MessageInput[],
): Promise<string[]> {
  const end = deps.metrics?.publishSeconds.startTimer({ endpoint });
  try {
    return await deps.broker.publish(channel, messages);
  } finally {
    end?.();
  }
}

function count(deps: AppDeps, endpoint: Endpoint, records: number, rejected = 0): void {
  if (!deps.metrics) {
    return;
  }
  deps.metrics.records.inc({ endpoint }, records);
  if (rejected > 0) {
    deps.metrics.rejected.inc({ endpoint }, rejected);
  }
}
