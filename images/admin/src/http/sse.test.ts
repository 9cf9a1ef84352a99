import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sseEvent, startEventStream, SSE_KEEP_ALIVE } from './sse';

describe('server-sent events', () => {
  it('formats an event with its JSON data on one line, with an id only when given', () => {
    expect(sseEvent('line', { text: 'a\nb' }, '2026-12-03T08:00:00.000000001Z')).toBe(
      'id: 2026-12-03T08:00:00.000000001Z\nevent: line\ndata: {"text":"a\\nb"}\n\n',
    );
    expect(sseEvent('reload', {})).toBe('event: reload\ndata: {}\n\n');
    expect(SSE_KEEP_ALIVE).toMatch(/^:.*\n\n$/);
  });

  it('starts a stream with the headers a proxy must not buffer or transform, sent before any event', async () => {
    const server: Server = createServer((_request, response) => startEventStream(response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const controller = new AbortController();
    try {
      const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        signal: controller.signal,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(answer.headers.get('cache-control')).toBe('no-cache, no-transform');
      expect(answer.headers.get('x-accel-buffering')).toBe('no');
    } finally {
      controller.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
