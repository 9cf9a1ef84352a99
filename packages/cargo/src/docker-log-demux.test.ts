import { createLogDemuxer } from './docker-log-demux';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const T1 = '2026-11-30T20:00:00.123456789Z';
const T2 = '2026-11-30T20:00:01.000000001Z';

describe('createLogDemuxer', () => {
  it('splits frames into lines with their stream and timestamp', () => {
    const demux = createLogDemuxer({ tty: false });
    const lines = demux.push(Buffer.concat([frame(1, `${T1} hello out\n`), frame(2, `${T2} oops err\n`)]));
    expect(lines).toEqual([
      { stream: 'stdout', ts: T1, text: 'hello out' },
      { stream: 'stderr', ts: T2, text: 'oops err' },
    ]);
    expect(demux.end()).toEqual([]);
  });

  it('reassembles frames split across chunks anywhere, even inside the header and a UTF-8 character', () => {
    const bytes = Buffer.concat([frame(1, `${T1} grüße ✓\n`), frame(2, `${T2} two\n`)]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const demux = createLogDemuxer({ tty: false });
      const lines = [...demux.push(bytes.subarray(0, cut)), ...demux.push(bytes.subarray(cut)), ...demux.end()];
      expect(lines).toEqual([
        { stream: 'stdout', ts: T1, text: 'grüße ✓' },
        { stream: 'stderr', ts: T2, text: 'two' },
      ]);
    }
  });

  it('joins the pieces of a long line (each piece has its own timestamp) and keeps the first time', () => {
    const demux = createLogDemuxer({ tty: false });
    const lines = demux.push(Buffer.concat([frame(1, `${T1} first half, `), frame(1, `${T2} second half\n`)]));
    expect(lines).toEqual([{ stream: 'stdout', ts: T1, text: 'first half, second half' }]);
  });

  it('keeps stdout and stderr partial lines apart', () => {
    const demux = createLogDemuxer({ tty: false });
    expect(demux.push(Buffer.concat([frame(1, `${T1} out-a`), frame(2, `${T2} err\n`)]))).toEqual([
      { stream: 'stderr', ts: T2, text: 'err' },
    ]);
    expect(demux.push(frame(1, `${T2} out-b\n`))).toEqual([{ stream: 'stdout', ts: T1, text: 'out-aout-b' }]);
  });

  it('returns a last line without a newline at the end', () => {
    const demux = createLogDemuxer({ tty: false });
    expect(demux.push(frame(2, `${T1} no newline`))).toEqual([]);
    expect(demux.end()).toEqual([{ stream: 'stderr', ts: T1, text: 'no newline' }]);
  });

  it('reads a TTY stream (no frames) as stdout, CRLF trimmed', () => {
    const demux = createLogDemuxer({ tty: true });
    expect(demux.push(Buffer.from(`${T1} tty line\r\n${T2} next`))).toEqual([
      { stream: 'stdout', ts: T1, text: 'tty line' },
    ]);
    expect(demux.end()).toEqual([{ stream: 'stdout', ts: T2, text: 'next' }]);
  });

  it('leaves ts empty without timestamps, and cuts overlong lines', () => {
    const demux = createLogDemuxer({ tty: false, timestamps: false, maxLineBytes: 4 });
    expect(demux.push(frame(1, 'abcdefghij\n'))).toEqual([{ stream: 'stdout', ts: '', text: 'abcdefghij' }]);
    expect(demux.push(frame(1, 'abcdefghij'))).toEqual([
      { stream: 'stdout', ts: '', text: 'abcd' },
      { stream: 'stdout', ts: '', text: 'efgh' },
    ]);
    expect(demux.end()).toEqual([{ stream: 'stdout', ts: '', text: 'ij' }]);
  });
});
