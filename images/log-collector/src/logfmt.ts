import { fromFields, type ParsedRecord } from './json-line';

// key=value, key="quoted \" value", key= (empty); keys as Go's logfmt and slog's TextHandler write them
const PAIR = /([A-Za-z_@][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|$)/y;
const NUMBER = /^-?(?:0|[1-9]\d{0,14})(?:\.\d+)?$/;

/**
 * A logfmt line (`level=info msg="order placed" order=2`): every token a key=value pair, at least
 * two of them, one naming a level or a message. Values that are numbers or booleans become those,
 * so a field filter on `data.status = 500` matches. Undefined when the line is not logfmt.
 */
export function parseLogfmt(text: string): ParsedRecord | undefined {
  const line = text.trim();
  const fields: Record<string, unknown> = {};
  let pairs = 0;
  let at = 0;
  while (at < line.length) {
    PAIR.lastIndex = at;
    const match = PAIR.exec(line);
    if (!match) {
      return undefined;
    }
    fields[match[1]!] = toValue(match[2]!);
    pairs += 1;
    at = PAIR.lastIndex;
    while (line[at] === ' ' || line[at] === '\t') {
      at += 1;
    }
  }
  const keys = Object.keys(fields);
  if (pairs < 2 || !keys.some((key) => /^(level|lvl|msg|message|severity)$/.test(key))) {
    return undefined;
  }
  return fromFields(fields, line);
}

function toValue(raw: string): unknown {
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  }
  if (NUMBER.test(raw)) {
    return Number(raw);
  }
  if (raw === 'true' || raw === 'false') {
    return raw === 'true';
  }
  return raw;
}
