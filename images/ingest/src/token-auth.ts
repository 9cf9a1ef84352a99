import type { TokenRecord, TokenStore } from '@mupets/tokens';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { IngestError } from './ingest-error';

/** The verified token of a request (set by {@link requireToken}). */
export function tokenOf(response: Response): TokenRecord {
  const token = (response.locals as { token?: TokenRecord }).token;
  if (!token) {
    throw new Error('requireToken did not run before this handler');
  }
  return token;
}

/**
 * `Authorization: Bearer <token>`: 401 without one or with one that is unknown or revoked; the
 * record goes to `response.locals.token`. Runs before the body is read, so an unauthenticated
 * client cannot make the ingest read megabytes. The token itself is never logged.
 */
export function requireToken(tokens: Pick<TokenStore, 'verify'>): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      next(new IngestError(401, 'unauthenticated', 'send an API token: Authorization: Bearer <token>'));
      return;
    }
    tokens.verify(match[1]!).then(
      (record) => {
        if (!record) {
          response.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
          next(new IngestError(401, 'invalid_token', 'the API token is unknown or revoked'));
          return;
        }
        (response.locals as { token?: TokenRecord }).token = record;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}
