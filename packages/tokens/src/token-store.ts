import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { z } from 'zod';
import { TokenError, TokenStoreUnavailableError } from './errors';
import { generateToken, hashToken, isTokenShaped, TOKEN_PREFIX } from './token-secret';
import { scopeChannel, scopeService } from './token-scope';

/** Records per second a token may send when its creator set no rate. */
export const DEFAULT_TOKEN_RATE = 1000;

const uniqueList = <T extends z.ZodType<string>>(item: T) =>
  z
    .array(item)
    .min(1)
    .max(64)
    .refine((items) => new Set(items).size === items.length, 'must not repeat a value');

/** What the admin sends to create a token. */
export const createTokenSchema = z.strictObject({
  /** A label for people (`py-shop production`); not secret. */
  name: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[^\p{Cc}]*$/u, 'no control characters'),
  channels: uniqueList(scopeChannel),
  services: uniqueList(scopeService),
  /** Records per second (a batch is admitted while any are left, then charged in full). */
  ratePerSecond: z.int().min(1).max(1_000_000).default(DEFAULT_TOKEN_RATE),
});

export type CreateTokenInput = z.input<typeof createTokenSchema>;

/** A token as stored: its scope and metadata; the token itself only as a hash (the key). */
export const tokenRecordSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  channels: z.array(z.string()),
  services: z.array(z.string()),
  ratePerSecond: z.int().min(1),
  /** The first characters of the token (`mpt_Ab3x`), so people can tell tokens apart. */
  hint: z.string(),
  createdAt: z.iso.datetime(),
});

export type TokenRecord = z.infer<typeof tokenRecordSchema>;

export interface TokenStoreOptions {
  /** An ioredis client; the store never closes it. */
  redis: Redis;
  /**
   * Prefix of the two keys: `<prefix>_tokens` (hash -> record) and `<prefix>_token-ids` (id -> hash).
   * Default `mupets:`. A channel name cannot start with `_`, so they never meet a stream key.
   */
  keyPrefix?: string;
}

/**
 * The tokens on Redis (always in the stack, whichever backbone carries the channels). One lookup
 * per verification: the record is stored under the token's SHA-256, so the token is never stored.
 * Revoking deletes the record: the next request with that token is refused.
 */
export class TokenStore {
  private readonly redis: Redis;
  private readonly byHash: string;
  private readonly byId: string;

  constructor(options: TokenStoreOptions) {
    this.redis = options.redis;
    const prefix = options.keyPrefix ?? 'mupets:';
    this.byHash = `${prefix}_tokens`;
    this.byId = `${prefix}_token-ids`;
  }

  /**
   * Creates a token. The returned `token` is the only copy there will ever be: show it once.
   * Throws a ZodError naming each bad field of `input`.
   */
  async create(input: CreateTokenInput): Promise<{ token: string; record: TokenRecord }> {
    const parsed = createTokenSchema.parse(input);
    const token = generateToken();
    const record: TokenRecord = {
      id: randomUUID(),
      name: parsed.name,
      channels: parsed.channels,
      services: parsed.services,
      ratePerSecond: parsed.ratePerSecond,
      hint: token.slice(0, TOKEN_PREFIX.length + 4),
      createdAt: new Date().toISOString(),
    };
    const hash = hashToken(token);
    await this.call(() =>
      this.redis.multi().hset(this.byHash, hash, JSON.stringify(record)).hset(this.byId, record.id, hash).exec(),
    );
    return { token, record };
  }

  /** Every token's record, oldest first. */
  async list(): Promise<TokenRecord[]> {
    const values = await this.call(() => this.redis.hvals(this.byHash));
    return values.map((value) => this.parse(value)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Revokes a token by id; resolves with its record, or undefined when there is none. */
  async revoke(id: string): Promise<TokenRecord | undefined> {
    const hash = await this.call(() => this.redis.hget(this.byId, id));
    if (!hash) {
      return undefined;
    }
    const results = await this.call(() =>
      this.redis.multi().hget(this.byHash, hash).hdel(this.byHash, hash).hdel(this.byId, id).exec(),
    );
    const stored = results?.[0]?.[1];
    return typeof stored === 'string' ? this.parse(stored) : undefined;
  }

  /** The record of a presented token, or undefined when it is unknown, revoked or malformed. */
  async verify(token: string): Promise<TokenRecord | undefined> {
    if (!isTokenShaped(token)) {
      return undefined;
    }
    const stored = await this.call(() => this.redis.hget(this.byHash, hashToken(token)));
    return stored === null ? undefined : this.parse(stored);
  }

  private parse(stored: string): TokenRecord {
    let value: unknown;
    try {
      value = JSON.parse(stored);
    } catch (error) {
      throw new TokenError('TOKEN_RECORD_INVALID', 'a stored token record is not JSON', { cause: error });
    }
    const parsed = tokenRecordSchema.safeParse(value);
    if (!parsed.success) {
      throw new TokenError('TOKEN_RECORD_INVALID', 'a stored token record is malformed', { cause: parsed.error });
    }
    return parsed.data;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new TokenStoreUnavailableError('the token store (Redis) did not answer', { cause: error });
    }
  }
}
