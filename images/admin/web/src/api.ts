// fetch with the house rules: JSON, the CSRF token on mutating requests, 401 -> the login page.
import type { ErrorBody, Issue, SessionInfo } from './api-types';

/** An answer other than 2xx, with the API's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly Issue[] = [],
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;

async function csrf(refresh = false): Promise<string> {
  if (!csrfToken || refresh) {
    const session = await api<SessionInfo>('/api/session');
    csrfToken = session.csrfToken;
  }
  return csrfToken;
}

/** Forgets the session's CSRF token (after logout or login). */
export function forgetSession(): void {
  csrfToken = undefined;
}

/** Sends the browser to the login page, remembering where it was. */
export function goToLogin(): void {
  if (location.pathname === '/login') {
    return;
  }
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Don't redirect to /login on 401 (the login form itself). */
  noLoginRedirect?: boolean;
  signal?: AbortSignal;
}

let backgroundStarts = 0;

/**
 * Starts `load` as a request the browser makes by itself (a poll): every `api` call it starts
 * synchronously says so, and the server does not count it as use of the session.
 */
export function inBackground<T>(load: () => Promise<T>): Promise<T> {
  backgroundStarts++;
  try {
    return load();
  } finally {
    backgroundStarts--;
  }
}

/** Calls the admin API; resolves with the JSON body (undefined for 204), throws ApiError otherwise. */
export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const background = backgroundStarts > 0;
  const method = options.method ?? 'GET';
  const mutating = method !== 'GET';
  const send = async (token?: string): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    if (token) {
      headers['x-csrf-token'] = token;
    }
    if (background) {
      headers['x-mupets-background'] = '1';
    }
    return fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  };
  const needsToken = mutating && path !== '/api/login';
  let response = await send(needsToken ? await csrf() : undefined);
  if (response.status === 403 && needsToken) {
    // the session may have been renewed since the token was fetched: one retry with a fresh one
    response = await send(await csrf(true));
  }
  if (response.status === 401 && !options.noLoginRedirect) {
    goToLogin();
  }
  if (!response.ok) {
    throw await errorOf(response);
  }
  if (response.status === 204 || response.headers.get('content-length') === '0') {
    return undefined as T;
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

async function errorOf(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get('retry-after'));
  // the API's error body, or (a proxy's page) nothing of it
  let body: { error?: Partial<ErrorBody['error']> } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  return new ApiError(
    response.status,
    body.error?.code ?? `http_${response.status}`,
    body.error?.message ?? response.statusText ?? `HTTP ${response.status}`,
    body.error?.issues ?? [],
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A readable message for any error a call can throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message || error.code;
  }
  return error instanceof Error ? error.message : String(error);
}
