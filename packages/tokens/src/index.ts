export { generateToken, hashToken, isTokenShaped, TOKEN_PREFIX } from './token-secret';
export {
  AUDIT_CHANNEL,
  channelViolation,
  messageViolation,
  RESERVED_SERVICE,
  RESERVED_TYPE_PREFIX,
  isReservedEventType,
  scopeChannel,
  scopeService,
  type ScopeViolation,
  type TokenScope,
} from './token-scope';
export {
  createTokenSchema,
  DEFAULT_TOKEN_RATE,
  TokenStore,
  tokenRecordSchema,
  type CreateTokenInput,
  type TokenRecord,
  type TokenStoreOptions,
} from './token-store';
export { TokenError, TokenStoreUnavailableError } from './errors';
export { openTokenStore, type OpenTokenStore } from './open-token-store';
