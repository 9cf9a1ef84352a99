/** One line a container wrote. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** Docker's RFC 3339 timestamp (nanoseconds), `''` when the logs were read without timestamps. */
  ts: string;
  text: string;
}

export interface LogDemuxerOptions {
  /** The container has a TTY: Docker sends the raw output, no frames (all of it is stdout). */
  tty: boolean;
  /** The logs were requested with `timestamps=true` (each line starts with one). Default true. */
  timestamps?: boolean;
  /** A longer line is cut (and the rest comes as further lines). Default 64 KiB. */
  maxLineBytes?: number;
}

/** Turns Docker's log byte stream into lines; chunks may split frames and lines anywhere. */
export interface LogDemuxer {
  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Buffer): LogLine[];
  /** The stream ended: returns what was left without a final newline. */
  end(): LogLine[];
}

const HEADER_BYTES = 8;
const NEWLINE = 0x0a;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) /;

/**
 * Demultiplexes Docker's log stream. Without a TTY, Docker frames the output: an 8-byte header
 * (byte 0: the stream, 0 stdin, 1 stdout, 2 stderr; bytes 4-7: payload length, big-endian) then the
 * payload. With `timestamps`, every frame starts with the time the line (or the piece of a long
 * line: Docker splits those at 16 KiB) was written; a piece that continues a line loses its own.
 */
export function createLogDemuxer(options: LogDemuxerOptions): LogDemuxer {
  const timestamps = options.timestamps ?? true;
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  let frames: Buffer = Buffer.alloc(0);
  const pending: Record<LogLine['stream'], Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  const toLine = (stream: LogLine['stream'], bytes: Buffer): LogLine => {
    const raw = bytes.toString('utf8').replace(/\r$/, '');
    if (!timestamps) {
      return { stream, ts: '', text: raw };
    }
    const match = TIMESTAMP.exec(raw);
    return match ? { stream, ts: match[1]!, text: raw.slice(match[0].length) } : { stream, ts: '', text: raw };
  };

  const take = (stream: LogLine['stream'], payload: Buffer, framed: boolean): LogLine[] => {
    let data = payload;
    if (framed && timestamps && pending[stream].length > 0) {
      // the continuation of a long line: its timestamp would land inside the text
      const match = TIMESTAMP.exec(data.subarray(0, 64).toString('latin1'));
      if (match) {
        data = data.subarray(match[0].length);
      }
    }
    let buffer = pending[stream].length > 0 ? Buffer.concat([pending[stream], data]) : data;
    const lines: LogLine[] = [];
    for (;;) {
      const newline = buffer.indexOf(NEWLINE);
      if (newline < 0) {
        break;
      }
      lines.push(toLine(stream, buffer.subarray(0, newline)));
      buffer = buffer.subarray(newline + 1);
    }
    while (buffer.length > maxLineBytes) {
      lines.push(toLine(stream, buffer.subarray(0, maxLineBytes)));
      buffer = buffer.subarray(maxLineBytes);
    }
    // a copy: the chunk's memory is not held by a short remainder
    pending[stream] = Buffer.from(buffer);
    return lines;
  };

  const flush = (stream: LogLine['stream']): LogLine[] => {
    if (pending[stream].length === 0) {
      return [];
    }
    const line = toLine(stream, pending[stream]);
    pending[stream] = Buffer.alloc(0);
    return [line];
  };

  return {
    push(chunk) {
      if (options.tty) {
        return take('stdout', chunk, false);
      }
      frames = frames.length > 0 ? Buffer.concat([frames, chunk]) : chunk;
      const lines: LogLine[] = [];
      while (frames.length >= HEADER_BYTES) {
        const size = frames.readUInt32BE(4);
        if (frames.length < HEADER_BYTES + size) {
          break;
        }
        const stream = frames[0] === 2 ? 'stderr' : 'stdout';
        lines.push(...take(stream, frames.subarray(HEADER_BYTES, HEADER_BYTES + size), true));
        frames = frames.subarray(HEADER_BYTES + size);
      }
      frames = Buffer.from(frames);
      return lines;
    },
    end() {
      frames = Buffer.alloc(0);
      return [...flush('stdout'), ...flush('stderr')];
    },
  };
}
