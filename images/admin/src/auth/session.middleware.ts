import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../http/http-error';
import { safeEqual, type Session, type SessionStore } from './session-store';

/** The session cookie's name. */
export const SESSION_COOKIE = 'mupets_admin';
/**
 * Set (to `1`) on requests the UI makes by itself (background polls): they find the session but
 * do not restart its idle timer, so an abandoned tab does not keep a session alive.
 */
export const BACKGROUND_HEADER = 'x-mupets-background';
/** The header mutating requests carry the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The request's session, set by {@link loadSession}; undefined when not logged in. */
export function sessionOf(response: Response): Session | undefined {
  return (response.locals as { session?: Session }).session;
}

/** The value of one cookie in the request's Cookie header. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) {
    return undefined;
  }
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/**
 * Looks the cookie's session up (restarting its idle timer, unless {@link BACKGROUND_HEADER} says
 * the browser asked by itself) and puts it in `res.locals.session`.
 */
export function loadSession(sessions: SessionStore): RequestHandler {
  return (request, response, next) => {
    const id = readCookie(request, SESSION_COOKIE);
    const background = request.get(BACKGROUND_HEADER) === '1';
    const session = id ? (background ? sessions.peek(id) : sessions.touch(id)) : undefined;
    if (session) {
      (response.locals as { session?: Session }).session = session;
    }
    next();
  };
}

/** 401 without a session. */
export function requireSession(_request: Request, response: Response, next: NextFunction): void {
  if (!sessionOf(response)) {
    next(new HttpError(401, 'unauthenticated', 'log in first'));
    return;
  }
  next();
}

/** 403 for a mutating request whose `X-CSRF-Token` is missing or not the session's. */
export function requireCsrf(request: Request, response: Response, next: NextFunction): void {
  if (!MUTATING.has(request.method)) {
    next();
    return;
  }
  const session = sessionOf(response);
  const given = request.get(CSRF_HEADER);
  if (!session || typeof given !== 'string' || !safeEqual(given, session.csrfToken)) {
    next(new HttpError(403, 'csrf', 'missing or wrong X-CSRF-Token'));
    return;
  }
  next();
}
