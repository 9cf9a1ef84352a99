import type { ServerResponse } from 'node:http';

/** A comment line: keeps proxies and browsers from timing an idle stream out. */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n';

/**
 * Starts a Server-Sent Events answer, the same for every stream of the admin: status 200, no
 * caching or transforming on the way, no buffering in a reverse proxy (nginx's X-Accel-Buffering),
 * headers sent at once so the client sees the stream open before the first event.
 */
export function startEventStream(response: ServerResponse): void {
  response.statusCode = 200;
  response.setHeader('content-type', 'text/event-stream; charset=utf-8');
  response.setHeader('cache-control', 'no-cache, no-transform');
  response.setHeader('connection', 'keep-alive');
  response.setHeader('x-accel-buffering', 'no');
  response.flushHeaders();
}

/** One event: `data` as JSON (one line), with an `id` when the client may resume from it. */
export function sseEvent(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
