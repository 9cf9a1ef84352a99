import { ArchiveQueryError, ArchiveUnavailableError, ArchiveClosedError } from '@mupets/archive';
import {
  BrokerBackpressureError,
  BrokerClosedError,
  BrokerUnavailableError,
  EnvelopeValidationError,
  InvalidNameError,
} from '@mupets/broker';
import { TokenStoreUnavailableError } from '@mupets/tokens';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { ContainerNotFoundError, DockerUnavailableError } from '../containers/container-errors';
import { HttpError, invalidInput, issuesOfZod, notFound, type InputIssue } from './http-error';

/** The body of every error answer (docs/admin-api.md). */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly issues?: readonly InputIssue[] };
}

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

/** Maps any error to its HTTP answer; unknown errors are bugs (500, logged, no details sent). */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) {
    return error;
  }
  if (error instanceof EnvelopeValidationError) {
    return invalidInput(
      error.issues.map((issue) => ({ field: issue.path || 'envelope', rule: issue.rule, message: issue.message })),
    );
  }
  if (error instanceof InvalidNameError) {
    return invalidInput([{ field: 'channel', rule: 'format', message: error.message }]);
  }
  if (error instanceof ArchiveQueryError) {
    return invalidInput(error.issues);
  }
  if (error instanceof z.ZodError) {
    return invalidInput(issuesOfZod(error, 'input'));
  }
  if (
    error instanceof BrokerUnavailableError ||
    error instanceof BrokerClosedError ||
    error instanceof BrokerBackpressureError
  ) {
    return new HttpError(503, 'broker_unavailable', 'the broker is unavailable', { cause: error });
  }
  if (error instanceof TokenStoreUnavailableError) {
    return new HttpError(503, 'tokens_unavailable', 'the token store (Redis) is unavailable', { cause: error });
  }
  if (error instanceof ContainerNotFoundError) {
    return notFound('container');
  }
  if (error instanceof DockerUnavailableError) {
    return new HttpError(503, 'docker_unavailable', error.message, { cause: error });
  }
  if (error instanceof ArchiveUnavailableError || error instanceof ArchiveClosedError) {
    return new HttpError(503, 'archive_unavailable', 'the archive is unavailable', { cause: error });
  }
  const parserError = error as BodyParserError | null;
  if (parserError && typeof parserError === 'object') {
    if (parserError.type === 'entity.too.large') {
      return new HttpError(413, 'body_too_large', 'the request body is too large');
    }
    if (parserError.type === 'entity.parse.failed') {
      return invalidInput([{ field: 'body', rule: 'json', message: 'the body is not valid JSON' }]);
    }
    if (typeof parserError.type === 'string' && parserError.status === 415) {
      return new HttpError(415, 'unsupported_media_type', 'unsupported body encoding or charset');
    }
    if (typeof parserError.type === 'string' && parserError.status === 400) {
      return invalidInput([{ field: 'body', rule: 'format', message: 'the body could not be read' }]);
    }
  }
  return undefined;
}

/** One error handler, registered last: the contract's error shape for every failure. */
export function errorHandler(logger: ErrorLogger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const mapped = toHttpError(error);
    if (response.headersSent) {
      // a stream (SSE, export) failed midway: all we can do is cut it
      logger.warn('response failed after headers were sent', { path: request.path, error });
      response.destroy();
      return;
    }
    if (!mapped) {
      logger.error('request failed', { method: request.method, path: request.path, error });
      response.status(500).json({ error: { code: 'internal', message: 'internal error' } } satisfies ErrorBody);
      return;
    }
    if (mapped.status >= 500) {
      logger.warn('dependency unavailable', { path: request.path, code: mapped.code, error: mapped.cause });
    }
    response.status(mapped.status).json({
      error: {
        code: mapped.code,
        message: mapped.message,
        ...(mapped.issues ? { issues: mapped.issues } : {}),
      },
    } satisfies ErrorBody);
  };
}

/** 404 for an unknown /api route. */
export const apiNotFound: RequestHandler = (request, response) => {
  response.status(404).json({
    error: { code: 'not_found', message: `no route for ${request.method} ${request.path}` },
  } satisfies ErrorBody);
};
