/** Every error of the token package, with a stable `code` the services map to a status. */
export class TokenError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The token store (Redis) did not answer: nothing can be verified, created or revoked now. */
export class TokenStoreUnavailableError extends TokenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TOKEN_STORE_UNAVAILABLE', message, options);
  }
}
