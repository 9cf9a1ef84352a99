import express, { type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { PublishAudit } from '../audit';
import { HttpError, parseInput } from '../http/http-error';
import type { AppLogger } from '../logger';
import { verifyPassword } from './password';
import { SESSION_COOKIE, sessionOf } from './session.middleware';
import type { Session, SessionStore } from './session-store';

export interface AuthOptions {
  /** The argon2 hash of the admin password. */
  passwordHash: string;
  sessions: SessionStore;
  /** Sets `Secure` on the session cookie. */
  secureCookie: boolean;
  /** Failed login attempts per client address per minute before 429. */
  loginLimitPerMinute: number;
  publishAudit: PublishAudit;
  logger: AppLogger;
  /** Called when a session ends at logout (its live streams end with it). */
  onSessionEnd?: (sessionId: string) => void;
}

const loginSchema = z.strictObject({ password: z.string().min(1).max(1024) });

/** The 401 a wrong password gets: the same whatever was wrong. */
const wrongPassword = () => new HttpError(401, 'unauthenticated', 'wrong password');

/** `POST /login`: public, rate limited, JSON body `{ password }`; sets the session cookie. */
export function createLoginRouter(options: AuthOptions, bodyLimit: string): Router {
  const router = express.Router();
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: options.loginLimitPerMinute,
    // only failed attempts count: a user who logs in again and again is not a guesser
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (request, response) => {
      options.logger.warn('login rate limited', { ip: request.ip });
      response.status(429).json({ error: { code: 'rate_limited', message: 'too many login attempts; retry later' } });
    },
  });
  router.post('/login', limiter, express.json({ limit: bodyLimit }), async (request, response) => {
    const { password } = parseInput(loginSchema, request.body ?? {}, 'body');
    if (!(await verifyPassword(options.passwordHash, password))) {
      audit(options, 'login.failed', { ip: request.ip });
      throw wrongPassword();
    }
    const previous = sessionOf(response);
    if (previous) {
      // a new login never keeps the old id (session fixation)
      options.sessions.destroy(previous.id);
    }
    const session = options.sessions.create();
    setSessionCookie(response, session, options.secureCookie);
    audit(options, 'login', { ip: request.ip });
    response.status(204).end();
  });
  return router;
}

/** What `GET /api/session` answers: the CSRF token every mutating request carries, and the session's end. */
export interface SessionInfo {
  readonly csrfToken: string;
  readonly expiresAt: string;
}

/** `POST /logout` and `GET /session`: behind the session (and CSRF) guard. */
export function createSessionRouter(options: AuthOptions): Router {
  const router = express.Router();
  router.post('/logout', (request, response) => {
    const session = sessionOf(response);
    if (session) {
      options.sessions.destroy(session.id);
      options.onSessionEnd?.(session.id);
    }
    response.clearCookie(SESSION_COOKIE, cookieOptions(options.secureCookie));
    audit(options, 'logout', { ip: request.ip });
    response.status(204).end();
  });
  router.get('/session', (_request, response) => {
    const session = sessionOf(response)!;
    response.json({
      csrfToken: session.csrfToken,
      expiresAt: new Date(session.expiresAt).toISOString(),
    } satisfies SessionInfo);
  });
  return router;
}

function cookieOptions(secure: boolean) {
  return { httpOnly: true, sameSite: 'strict' as const, secure, path: '/' };
}

function setSessionCookie(response: express.Response, session: Session, secure: boolean): void {
  response.cookie(SESSION_COOKIE, session.id, cookieOptions(secure));
}

/** Login and logout are audited; a failed audit does not undo them, it is logged. */
function audit(options: AuthOptions, action: string, extra: Record<string, unknown>): void {
  options.publishAudit(action, 'admin', extra).catch((error: unknown) => {
    options.logger.error('audit event not stored', { action, error });
  });
}
