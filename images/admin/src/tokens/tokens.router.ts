import { createTokenSchema, type TokenRecord, type TokenStore } from '@mupets/tokens';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { PublishAudit } from '../audit';
import { HttpError, notFound, parseInput } from '../http/http-error';
import type { AppLogger } from '../logger';

export interface TokensOptions {
  tokens: Pick<TokenStore, 'create' | 'list' | 'revoke'>;
  publishAudit: PublishAudit;
  logger: AppLogger;
}

/** What `GET /api/tokens` answers: every token's record, never a token itself. */
export interface TokenList {
  readonly tokens: readonly TokenRecord[];
}

/** What `POST /api/tokens` answers (201): the token, in this answer only, and its record. */
export interface CreatedToken {
  readonly token: string;
  readonly record: TokenRecord;
}

const idParams = z.object({ id: z.uuid() });

/**
 * The ingest's API tokens (docs/admin-api.md): list, create (the token is in this one answer and
 * nowhere else), revoke. The scope rules and the input schema are @mupets/tokens', shared with the
 * ingest. Creating and revoking are audited before they happen, without the token.
 */
export function createTokensRouter(options: TokensOptions): Router {
  const router = express.Router();
  router.get('/', async (_request, response) => {
    response.json({ tokens: await options.tokens.list() } satisfies TokenList);
  });
  router.post('/', async (request, response) => {
    const input = parseInput(createTokenSchema, request.body ?? {}, 'body');
    await audited(options, 'token.create', input.name);
    const { token, record } = await options.tokens.create(input);
    options.logger.info('api token created', { id: record.id, name: record.name });
    response.status(201).json({ token, record } satisfies CreatedToken);
  });
  router.delete('/:id', async (request, response) => {
    const { id } = parseInput(idParams, request.params, 'params');
    await audited(options, 'token.revoke', id);
    const record = await options.tokens.revoke(id);
    if (!record) {
      throw notFound('token');
    }
    options.logger.info('api token revoked', { id, name: record.name });
    response.status(204).end();
  });
  return router;
}

/** Audit first: a token change that cannot be recorded does not happen (503). */
async function audited(options: TokensOptions, action: string, target: string): Promise<void> {
  try {
    await options.publishAudit(action, target);
  } catch (error) {
    throw new HttpError(503, 'audit_unavailable', 'the action could not be audited, so it was not done', {
      cause: error,
    });
  }
}
