import type { ArchivedMessage } from '@mupets/archive';
import { csvField, csvHeader, csvLine, ndjsonLine } from './archive-export';

const record: ArchivedMessage = {
  id: 'e1',
  channel: 'logs',
  brokerId: '1-0',
  ts: '2026-03-01T12:00:00.000Z',
  type: 'log',
  service: 'api',
  level: 'info',
  message: 'a, "quoted"\nline',
  data: { a: 1, s: 'x,y' },
  cursor: 'c',
};

describe('CSV', () => {
  test.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['=HYPERLINK("x","y")', '"\'=HYPERLINK(""x"",""y"")"'],
    ['', ''],
  ])('%j -> %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  test('a record: every column, empty for absent ones, data as JSON, CRLF', () => {
    expect(csvHeader()).toBe('ts,channel,brokerId,id,service,instance,host,level,type,message,data\r\n');
    expect(csvLine(record)).toBe(
      '2026-03-01T12:00:00.000Z,logs,1-0,e1,api,,,info,log,"a, ""quoted""\nline","{""a"":1,""s"":""x,y""}"\r\n',
    );
  });
});

test('NDJSON: one line of JSON without the paging cursor', () => {
  const line = ndjsonLine(record);
  expect(line.endsWith('\n')).toBe(true);
  expect(line.slice(0, -1)).not.toContain('\n');
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(parsed).not.toHaveProperty('cursor');
  expect(parsed).toEqual({ ...record, cursor: undefined });
});
