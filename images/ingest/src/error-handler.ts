import { BrokerBackpressureError, BrokerClosedError, BrokerUnavailableError, InvalidNameError } from '@mupets/broker';
import { TokenStoreUnavailableError } from '@mupets/tokens';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { IngestError, invalidInput } from './ingest-error';
import { encodeStatus } from './otlp/otlp-proto';

/** The subset of a logger the error handler uses. */
export interface ErrorLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** body-parser's errors carry `type` and `status`. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
}

/** Maps an error to its answer; undefined for a bug (500). `retryAfterS` is the 503's Retry-After. */
export function toIngestError(error: unknown, retryAfterS: number): IngestError | undefined {
  if (error instanceof IngestError) {
    return error;
  }
  if (error instanceof BrokerBackpressureError) {
    return new IngestError(
      503,
      'broker_backpressure',
      'the broker is not keeping up; nothing of this request was stored',
      {
        retryAfterS,
        cause: error,
      },
    );
  }
  if (error instanceof BrokerUnavailableError || error instanceof BrokerClosedError) {
    return new IngestError(
      503,
      'broker_unavailable',
      'the broker did not confirm the batch in time; send it again (records with the same id are stored once downstream)',
      { retryAfterS, cause: error },
    );
  }
  if (error instanceof TokenStoreUnavailableError) {
    return new IngestError(503, 'token_store_unavailable', 'API tokens cannot be checked now', {
      retryAfterS,
      cause: error,
    });
  }
  if (error instanceof InvalidNameError) {
    return invalidInput([{ field: 'channel', rule: 'format', message: error.message }]);
  }
  const parserError = error as BodyParserError | null;
  if (parserError && typeof parserError === 'object') {
    if (parserError.type === 'entity.too.large') {
      return new IngestError(413, 'body_too_large', 'the request body is over the limit');
    }
    if (parserError.type === 'encoding.unsupported' || parserError.status === 415) {
      return new IngestError(415, 'unsupported_media_type', 'unsupported Content-Encoding or charset');
    }
    if (typeof parserError.type === 'string' && typeof parserError.status === 'number' && parserError.status < 500) {
      return invalidInput([{ field: 'body', rule: 'format', message: 'the body could not be read' }]);
    }
  }
  return undefined;
}

// google.rpc.Code of each status, for OTLP error bodies
const GRPC_CODES: Readonly<Record<number, number>> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  413: 3,
  415: 3,
  429: 8,
  503: 14,
};

function isOtlp(request: Request): boolean {
  return request.path === '/v1/logs';
}

function isProtobuf(request: Request): boolean {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-protobuf';
}

/**
 * One error handler, registered last. The native endpoint answers `{ error: { code, message,
 * issues? } }`; `/v1/logs` answers a google.rpc.Status as OTLP/HTTP asks, protobuf or JSON like
 * the request. 429 and 503 carry Retry-After, which OTLP exporters honour.
 */
export function errorHandler(logger: ErrorLogger, retryAfterS: number): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const mapped = toIngestError(error, retryAfterS);
    if (!mapped) {
      logger.error('request failed', { method: request.method, path: request.path, error });
    } else if (mapped.status >= 500) {
      logger.warn('dependency unavailable', { path: request.path, code: mapped.code, error: mapped.cause });
    }
    const status = mapped?.status ?? 500;
    const code = mapped?.code ?? 'internal';
    const message = mapped?.message ?? 'internal error';
    if (mapped?.retryAfterS !== undefined) {
      response.setHeader('Retry-After', String(mapped.retryAfterS));
    }
    response.status(status);
    if (isOtlp(request)) {
      const grpcCode = GRPC_CODES[status] ?? 13;
      if (isProtobuf(request)) {
        response.type('application/x-protobuf').send(encodeStatus(grpcCode, message));
      } else {
        response.json({ code: grpcCode, message });
      }
      return;
    }
    response.json({ error: { code, message, ...(mapped?.issues ? { issues: mapped.issues } : {}) } });
  };
}

/** 404 for an unknown path. */
export const notFound: RequestHandler = (request, response) => {
  response
    .status(404)
    .json({ error: { code: 'not_found', message: `no route for ${request.method} ${request.path}` } });
};
