import type { ArchivedMessage } from '@mupets/archive';

/** The CSV columns of an export, in order. */
export const CSV_COLUMNS = [
  'ts',
  'channel',
  'brokerId',
  'id',
  'service',
  'instance',
  'host',
  'level',
  'type',
  'message',
  'data',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A
 * value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
 * `'`, so opening an export never executes what a service logged.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The header line, CRLF-terminated. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One record as a CSV line, CRLF-terminated; `data` as JSON text. */
export function csvLine(record: ArchivedMessage): string {
  const cells = CSV_COLUMNS.map((column) => {
    if (column === 'data') {
      return record.data === undefined ? '' : JSON.stringify(record.data);
    }
    const value = record[column];
    return value === undefined || value === null ? '' : String(value);
  });
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** One record as an NDJSON line (the cursor is an implementation detail of paging: left out). */
export function ndjsonLine(record: ArchivedMessage): string {
  const fields = Object.entries(record).filter(([key]) => key !== 'cursor');
  return `${JSON.stringify(Object.fromEntries(fields))}\n`;
}
