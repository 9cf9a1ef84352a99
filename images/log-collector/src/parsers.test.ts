import { parseJsonLine } from './json-line';
import { normalizeLevel } from './log-level';
import { parseLogfmt } from './logfmt';
import { createMultilineAssembler, type SourceLine } from './multiline';
import { parseRecord } from './parse-record';
import { plainLevel } from './plain-level';

const defaults = { stdout: 'info', stderr: 'info' } as const;

describe('normalizeLevel', () => {
  it.each([
    [10, 'silly'],
    [20, 'debug'],
    [30, 'info'],
    [40, 'warn'],
    [50, 'error'],
    [60, 'fatal'],
    ['WARNING', 'warn'],
    ['CRITICAL', 'fatal'],
    ['SEVERE', 'error'],
    ['DPANIC', 'fatal'],
    ['INFO+2', 'info'],
    ['Error', 'error'],
    ['30', 'info'],
  ])('%p -> %p', (input, expected) => {
    expect(normalizeLevel(input)).toBe(expected);
  });

  it('refuses what is no level', () => {
    expect(normalizeLevel('banana')).toBeUndefined();
    expect(normalizeLevel(5)).toBeUndefined();
    expect(normalizeLevel(null)).toBeUndefined();
    expect(normalizeLevel({ level: 'info' })).toBeUndefined();
  });
});

describe('parseJsonLine', () => {
  it('winston (a cargo service): level, message, time, fields, and the envelope id', () => {
    const record = parseJsonLine(
      '{"timestamp":"2026-12-02T02:20:26.123Z","level":"warn","message":"slow","service":"api","ms":812,"envelopeId":"0b9c2f1e-8a5d-4c1e-9f00-2d3c4b5a6e7f"}',
    );
    expect(record).toEqual({
      level: 'warn',
      message: 'slow',
      time: '2026-12-02T02:20:26.123Z',
      fields: { service: 'api', ms: 812 },
      envelopeId: '0b9c2f1e-8a5d-4c1e-9f00-2d3c4b5a6e7f',
    });
  });

  it('pino: numeric level, msg, epoch-ms time', () => {
    const record = parseJsonLine(
      '{"level":50,"time":1796178026123,"pid":7,"hostname":"h","msg":"db down","err":{"code":"E"}}',
    );
    expect(record).toEqual({
      level: 'error',
      message: 'db down',
      time: '2026-12-02T02:20:26.123Z',
      fields: { pid: 7, hostname: 'h', err: { code: 'E' } },
    });
  });

  it('bunyan, Go slog and zap, Python json logger', () => {
    expect(
      parseJsonLine(
        '{"name":"app","hostname":"h","pid":1,"level":40,"msg":"careful","time":"2026-12-02T02:20:26.123Z","v":0}',
      ),
    ).toMatchObject({ level: 'warn', message: 'careful' });
    expect(
      parseJsonLine('{"time":"2026-12-02T02:20:26.123456789Z","level":"ERROR","msg":"failed","status":500}'),
    ).toEqual({
      level: 'error',
      message: 'failed',
      time: '2026-12-02T02:20:26.123456789Z',
      fields: { status: 500 },
    });
    expect(parseJsonLine('{"level":"debug","ts":1796178026.5,"caller":"main.go:12","msg":"tick"}')).toMatchObject({
      level: 'debug',
      message: 'tick',
      fields: { caller: 'main.go:12', ts: 1796178026.5 },
    });
    expect(
      parseJsonLine('{"asctime":"2026-12-02 02:20:26,123","levelname":"WARNING","name":"worker","message":"retry"}'),
    ).toEqual({
      level: 'warn',
      message: 'retry',
      fields: { asctime: '2026-12-02 02:20:26,123', name: 'worker' },
    });
  });

  it('a JSON object without level or message keeps the line as message and all fields', () => {
    expect(parseJsonLine('{"a":1}')).toEqual({ level: undefined, message: '{"a":1}', fields: { a: 1 } });
  });

  it('is not fooled by what is not a JSON object', () => {
    expect(parseJsonLine('[1,2]')).toBeUndefined();
    expect(parseJsonLine('{not json}')).toBeUndefined();
    expect(parseJsonLine('plain {"a":1}')).toBeUndefined();
    expect(parseJsonLine('{"envelopeId":"not-a-uuid","msg":"x"}')).toEqual({
      level: undefined,
      message: 'x',
      fields: { envelopeId: 'not-a-uuid' },
    });
  });
});

describe('parseLogfmt', () => {
  it('reads pairs, quoted values, numbers and booleans', () => {
    expect(
      parseLogfmt(
        'time=2026-12-02T02:20:26Z level=warn msg="disk \\"almost\\" full" used=0.93 status=500 ok=false path=/var',
      ),
    ).toEqual({
      level: 'warn',
      message: 'disk "almost" full',
      time: '2026-12-02T02:20:26Z',
      fields: { used: 0.93, status: 500, ok: false, path: '/var' },
    });
  });

  it('refuses prose and lone pairs', () => {
    expect(parseLogfmt('the value a=b was wrong')).toBeUndefined();
    expect(parseLogfmt('a=1')).toBeUndefined();
    expect(parseLogfmt('a=1 b=2')).toBeUndefined();
    expect(parseLogfmt('level=info msg="unterminated')).toBeUndefined();
  });
});

describe('plainLevel', () => {
  it.each([
    ['1:M 02 Dec 2026 02:20:26.123 * Ready to accept connections tcp', 'info'],
    ['1:M 02 Dec 2026 02:20:26.123 # WARNING Memory overcommit must be enabled!', 'warn'],
    ['1:C 02 Dec 2026 02:20:26.123 . debug detail', 'debug'],
    ['2026/12/02 02:20:26 [error] 29#29: *1 open() failed', 'error'],
    ['2026/12/02 02:20:26 [notice] 1#1: start worker processes', 'info'],
    ['SEVERE: Servlet.service() threw exception', 'error'],
    ['Dec 02, 2026 2:20:26 AM org.x.Y run WARNING: low memory', 'warn'],
    ['2026-12-02 02:20:26:123 WARNI Storage is not closed properly [OLocalPaginatedStorage]', 'warn'],
    ['2026-12-02 02:20:26:123 SEVER Error on client connection [OClientConnection]', 'error'],
    ['[2026-12-02 02:20:26,123] ERROR [Controller id=1] failed (kafka.controller)', 'error'],
    ['2026-12-02T02:20:26.123Z warn  [log-archiver/consumer] retrying count=3', 'warn'],
    ['ts=now level=error something odd', 'error'],
    ['Traceback (most recent call last):', 'error'],
  ])('%s -> %s', (line, expected) => {
    expect(plainLevel(line)).toBe(expected);
  });

  it('finds no level in plain prose, lower-case words included', () => {
    expect(plainLevel('listening on port 8080')).toBeUndefined();
    expect(plainLevel('0 errors, 2 warnings')).toBeUndefined();
  });
});

describe('parseRecord', () => {
  it('uses the stream default when nothing says a level, and error for an unmarked stack trace', () => {
    expect(parseRecord('hello', 'stdout', { stdout: 'info', stderr: 'warn' }).level).toBe('info');
    expect(parseRecord('hello', 'stderr', { stdout: 'info', stderr: 'warn' }).level).toBe('warn');
    expect(parseRecord('Error: boom\n    at main (/app/x.js:1:2)', 'stderr', defaults, true).level).toBe('error');
    expect(parseRecord('level=debug msg=tick n=1', 'stdout', defaults)).toMatchObject({
      level: 'debug',
      message: 'tick',
      fields: { n: 1 },
    });
  });
});

describe('createMultilineAssembler', () => {
  let n = 0;
  const line = (text: string, stream: 'stdout' | 'stderr' = 'stderr'): SourceLine<number> => ({
    stream,
    ts: `2026-12-02T02:20:26.${String(++n).padStart(9, '0')}Z`,
    text,
    position: n,
  });
  function assemble(lines: Array<SourceLine<number>>) {
    const assembler = createMultilineAssembler<number>();
    const out = lines.flatMap((each) => assembler.push(each));
    return [...out, ...assembler.flush()];
  }

  it('a Java stack trace with causes is one record, positioned at its last line', () => {
    const lines = [
      line('Exception in thread "main" java.lang.IllegalStateException: boom'),
      line('\tat com.orientechnologies.X.run(X.java:10)'),
      line('\tat java.base/java.lang.Thread.run(Thread.java:840)'),
      line('Caused by: java.io.IOException: disk'),
      line('\t... 2 more'),
      line('next line'),
    ];
    const records = assemble(lines);
    expect(records.map((record) => record.lines)).toEqual([5, 1]);
    expect(records[0]).toMatchObject({ ts: lines[0]!.ts, position: lines[4]!.position, stack: true });
    expect(records[0]!.text.split('\n')).toHaveLength(5);
    expect(parseRecord(records[0]!.text, 'stderr', defaults, records[0]!.stack).level).toBe('error');
  });

  it('a Python traceback ends with its exception line', () => {
    const records = assemble([
      line('Traceback (most recent call last):'),
      line('  File "/app/worker.py", line 3, in <module>'),
      line('    main()'),
      line('ValueError: bad input'),
      line('worker exiting'),
    ]);
    expect(records.map((record) => record.text)).toEqual([
      'Traceback (most recent call last):\n  File "/app/worker.py", line 3, in <module>\n    main()\nValueError: bad input',
      'worker exiting',
    ]);
  });

  it('a Node error stack is one record; JSON lines and the other stream never join it', () => {
    const records = assemble([
      line('Error: boom'),
      line('    at main (/app/index.js:3:9)'),
      line('    at node:internal/main:1:1', 'stdout'),
      line('{"level":"info","msg":"x"}'),
      line('    indented after JSON'),
    ]);
    expect(records.map((record) => [record.stream, record.lines])).toEqual([
      ['stderr', 2],
      ['stdout', 1],
      ['stderr', 1],
      ['stderr', 1],
    ]);
  });

  it('closes a record at maxLines', () => {
    const assembler = createMultilineAssembler<number>({ maxLines: 3 });
    const out = [line('Error: x'), line('  at 1'), line('  at 2'), line('  at 3')].flatMap((each) =>
      assembler.push(each),
    );
    expect([...out, ...assembler.flush()].map((record) => record.lines)).toEqual([3, 1]);
  });
});
