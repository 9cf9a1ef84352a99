import type { Level } from '@mupets/broker';
import { normalizeLevel } from './log-level';

// Redis: `1:M 02 Dec 2026 02:20:26.123 * Ready to accept connections`; the mark after the time is
// the level: `.` debug, `-` verbose, `*` notice, `#` warning
const REDIS = /^\d+:[XCSM] \d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} ([.*#-]) /;
const REDIS_LEVELS: Readonly<Record<string, Level>> = { '.': 'debug', '-': 'verbose', '*': 'info', '#': 'warn' };
// `[error]`, `[warn]` (nginx, many others), `<error>`, `level=error` inside free text, `level: warn`
const BRACKETED = /[[<(](fatal|panic|emerg|alert|crit|critical|error|err|warn|warning|notice|info|debug|trace)[\]>)]/i;
const LEVEL_KEY = /\blevel[=:]\s*"?([A-Za-z]+)/i;
// an upper-case level word (Java's SEVERE/WARNING, log4j's ERROR/WARN, OrientDB's SEVER/WARNI)
const UPPER =
  /(?:^|[\s[|:])(FATAL|PANIC|CRITICAL|SEVERE|SEVER|ERROR|ERR|WARNING|WARNI|WARN|NOTICE|INFO|DEBUG|TRACE|FINEST|FINER|FINE|CONFIG)(?=$|[\s\]|:])/;
// a line that starts with a time and then a level word in any case: `2026-12-02T02:20:26Z warn ...`
const TIME_THEN_LEVEL = /^\S*\d{2}:\d{2}:\d{2}\S*\s+([A-Za-z]{3,8})\b/;
const ABBREVIATED: Readonly<Record<string, Level>> = { SEVER: 'error', WARNI: 'warn' };
/** How far into a line a marker is looked for: past it, the word is message text. */
const HEAD = 160;

/**
 * The level of a plain-text line from the markers programs put near its start, or undefined when
 * there is none: Redis's `*`/`#` marks, `[error]`-style brackets, `level=warn`, an upper-case level
 * word (`ERROR`, `WARN`, Java's `SEVERE`/`WARNING`), or a level word right after a leading time.
 */
export function plainLevel(text: string): Level | undefined {
  const head = text.slice(0, HEAD);
  const redis = REDIS.exec(head);
  if (redis) {
    return REDIS_LEVELS[redis[1]!];
  }
  const time = TIME_THEN_LEVEL.exec(head);
  const afterTime = time ? normalizeLevel(time[1]) : undefined;
  if (afterTime) {
    return afterTime;
  }
  const bracketed = BRACKETED.exec(head);
  if (bracketed) {
    return normalizeLevel(bracketed[1]);
  }
  const keyed = LEVEL_KEY.exec(head);
  const fromKey = keyed ? normalizeLevel(keyed[1]) : undefined;
  if (fromKey) {
    return fromKey;
  }
  const upper = UPPER.exec(head);
  if (upper) {
    return ABBREVIATED[upper[1]!] ?? normalizeLevel(upper[1]);
  }
  if (/^(Traceback \(most recent call last\):|Exception in thread |Uncaught )/.test(head)) {
    return 'error';
  }
  return undefined;
}
