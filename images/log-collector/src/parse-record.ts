import type { Level } from '@mupets/broker';
import { parseJsonLine, type ParsedRecord } from './json-line';
import { parseLogfmt } from './logfmt';
import { plainLevel } from './plain-level';

export type { ParsedRecord } from './json-line';

export interface ParseDefaults {
  /** Level of a plain stdout line without a marker. */
  stdout: Level;
  /** Level of a plain stderr line without a marker. */
  stderr: Level;
}

/**
 * Understands one record (a line, or a multi-line record): a JSON object, else logfmt, else plain
 * text with a level from its markers. A record without any level gets the stream's default, except
 * a multi-line one with stack frames, which is an error being reported.
 */
export function parseRecord(
  text: string,
  stream: 'stdout' | 'stderr',
  defaults: ParseDefaults,
  stack = false,
): ParsedRecord & { level: Level } {
  const firstLine = text.split('\n', 1)[0]!;
  const structured = firstLine === text ? (parseJsonLine(text) ?? parseLogfmt(text)) : undefined;
  const parsed: ParsedRecord = structured ?? { level: plainLevel(text), message: text, fields: {} };
  const level = parsed.level ?? (stack ? 'error' : defaults[stream]);
  return { ...parsed, level };
}
