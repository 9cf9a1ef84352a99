import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One server-sent event, or a comment line (`event: 'comment'`). */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** A minimal EventSource for tests: every event received, in order; no automatic reconnect. */
export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly events: SseEvent[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Whether the stream has ended, now. */
  readonly isEnded: boolean;
  close(): void;
}

/** Opens `url` with the session cookie (and `Last-Event-ID`, if given); resolves once headers arrived. */
export function openSse(url: string, cookie: string, lastEventId?: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream', cookie };
    if (lastEventId !== undefined) {
      headers['last-event-id'] = lastEventId;
    }
    const req: ClientRequest = request(url, { headers }, (response) => {
      const events: SseEvent[] = [];
      let buffer = '';
      response.setEncoding('utf8');
      let isEnded = false;
      const ended = new Promise<void>((done) => {
        response.on('end', done);
        response.on('close', done);
        response.on('error', () => done());
      }).then(() => {
        isEnded = true;
      });
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          events.push(parseBlock(block));
        }
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        ended,
        get isEnded() {
          return isEnded;
        },
        close: () => {
          req.destroy();
          response.destroy();
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function parseBlock(block: string): SseEvent {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  let comment = true;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      continue;
    }
    comment = false;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') {
      id = value;
    } else if (field === 'event') {
      event = value;
    } else if (field === 'data') {
      data.push(value);
    }
  }
  return comment ? { id: undefined, event: 'comment', data: block } : { id, event, data: data.join('\n') };
}
