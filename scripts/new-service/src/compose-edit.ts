import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Document } from 'yaml';

/** The compose file cannot be edited without risk; the message says why and what to do. */
export class ComposeEditError extends Error {
  override readonly name = 'ComposeEditError';
}

/** What one compose file gains: a service, and entries of other top-level maps (volumes, secrets). */
export interface ComposeAddition {
  readonly service: string;
  /** The service's lines, indented as under `services:`, with the comments above it. */
  readonly serviceLines: readonly string[];
  /** Top-level key -> entry lines (indented by two), e.g. `volumes` -> `  x-node-modules:`. */
  readonly topLevel: ReadonlyMap<string, readonly string[]>;
}

const TOP_LEVEL_KEY_RE = /^([A-Za-z0-9_.-]+):(?:\s.*)?$/;

interface KeyLine {
  readonly key: string;
  readonly line: number;
}

/** The top-level keys of a block-style YAML text, with their line numbers. */
function topLevelKeys(lines: readonly string[]): KeyLine[] {
  const keys: KeyLine[] = [];
  lines.forEach((line, index) => {
    const match = TOP_LEVEL_KEY_RE.exec(line);
    if (match) {
      keys.push({ key: match[1]!, line: index });
    }
  });
  return keys;
}

/** The lines of a top-level section's entries: after its key line, before the comments and blanks that lead into the next key. */
function sectionRange(lines: readonly string[], keys: readonly KeyLine[], key: string): { start: number; end: number } {
  const index = keys.findIndex((entry) => entry.key === key);
  if (index === -1) {
    throw new Error(`no top-level ${key}:`);
  }
  const start = keys[index]!.line + 1;
  let end = index + 1 < keys.length ? keys[index + 1]!.line : lines.length;
  while (end > start && (lines[end - 1]!.trim() === '' || lines[end - 1]!.startsWith('#'))) {
    end--;
  }
  return { start, end };
}

/** Reads a compose fragment (the template's compose.*.yml, rendered): its one service and its top-level entries. */
export function readFragment(text: string, topLevelKeysToCopy: readonly string[]): ComposeAddition {
  const doc = parseStrict(text, 'the template fragment');
  const services = doc.get('services');
  if (!isMap(services) || services.items.length !== 1) {
    throw new Error('the template fragment must hold exactly one service');
  }
  const service = String((services.items[0]!.key as { value: unknown }).value);
  const lines = text.split('\n');
  const keys = topLevelKeys(lines);
  const range = sectionRange(lines, keys, 'services');
  const serviceLines = lines.slice(range.start, range.end);
  const topLevel = new Map<string, string[]>();
  for (const key of topLevelKeysToCopy) {
    if (keys.some((entry) => entry.key === key)) {
      const section = sectionRange(lines, keys, key);
      topLevel.set(key, lines.slice(section.start, section.end));
    }
  }
  return { service, serviceLines, topLevel };
}

/**
 * Adds a service (and its volumes/secrets entries) to a compose file's text by inserting lines: at
 * the end of `services:` (before the comments that lead into the next top-level key), at the end of
 * each named top-level map, or as a new map at the end. Nothing else is touched, so comments,
 * anchors, quoting and the other entries stay byte for byte. Then it proves it: the result must
 * parse, and equal the original plus exactly the added entries. Throws ComposeEditError otherwise.
 */
export function addToCompose(text: string, addition: ComposeAddition, file: string): string {
  const what = (problem: string): ComposeEditError =>
    new ComposeEditError(
      `${file}: ${problem}. Add the service by hand (see docs/cargo-services.md), or fix the file and run the generator again.`,
    );
  if (parseAllDocuments(text).length !== 1) {
    throw what('it holds more than one YAML document');
  }
  let original: Document;
  try {
    original = parseStrict(text, file);
  } catch (error) {
    throw what(`it does not parse as YAML (${(error as Error).message})`);
  }
  if (!isMap(original.contents) || original.contents.flow) {
    throw what('its top level is not a block mapping');
  }
  const lines = text.split('\n');
  const keys = topLevelKeys(lines);
  const docKeys = original.contents.items.map((pair) => String((pair.key as { value: unknown }).value));
  if (
    !isDeepStrictEqual(
      docKeys,
      keys.map((entry) => entry.key),
    )
  ) {
    throw what(`its top-level keys could not be found line by line (found ${keys.map((k) => k.key).join(', ')})`);
  }
  const services = original.get('services');
  if (!isMap(services) || services.flow) {
    throw what('it has no block-style services: mapping');
  }
  if (services.has(addition.service)) {
    throw what(`it has a service ${addition.service} already`);
  }
  for (const [key, entries] of addition.topLevel) {
    const map = original.get(key);
    if (map !== undefined && map !== null && (!isMap(map) || map.flow)) {
      throw what(`its top-level ${key}: is not a block mapping`);
    }
    for (const name of entryNames(entries)) {
      if (isMap(map) && map.has(name)) {
        throw what(`its ${key}: has an entry ${name} already`);
      }
    }
  }
  for (const anchor of aliasesIn(addition.serviceLines)) {
    if (!new RegExp(`&${anchor}\\b`).test(text)) {
      throw what(`it defines no anchor &${anchor}, which the new service uses`);
    }
  }

  // insert from the bottom up, so the line numbers found above stay right
  const inserts: Array<{ at: number; lines: readonly string[] }> = [];
  const servicesRange = sectionRange(lines, keys, 'services');
  inserts.push({ at: servicesRange.end, lines: ['', ...addition.serviceLines] });
  const appended: string[] = [];
  for (const [key, entries] of addition.topLevel) {
    if (keys.some((entry) => entry.key === key)) {
      inserts.push({ at: sectionRange(lines, keys, key).end, lines: entries });
    } else {
      appended.push('', `${key}:`, ...entries);
    }
  }
  const out = [...lines];
  for (const insert of inserts.sort((a, b) => b.at - a.at)) {
    out.splice(insert.at, 0, ...insert.lines);
  }
  if (appended.length > 0) {
    while (out.length > 0 && out[out.length - 1] === '') {
      out.pop();
    }
    out.push(...appended, '');
  }
  const result = out.join('\n');

  // the proof: the original's entries unchanged, and exactly the new ones added
  let edited: Document;
  try {
    edited = parseStrict(result, file);
  } catch (error) {
    throw what(`the edited file would not parse (${(error as Error).message})`);
  }
  const before = plain(original.contents) as Record<string, Record<string, unknown> | null>;
  const after = plain(edited.contents) as Record<string, Record<string, unknown> | null>;
  const expected: Record<string, unknown> = { ...before };
  const fragment = parseDocument(['services:', ...addition.serviceLines].join('\n'), { uniqueKeys: true });
  expected.services = { ...before.services, ...(plain(fragment.contents) as { services: object }).services };
  for (const [key, entries] of addition.topLevel) {
    const added = plain(parseDocument([`${key}:`, ...entries].join('\n')).contents) as Record<string, object>;
    expected[key] = { ...(before[key] ?? {}), ...added[key] };
  }
  if (!isDeepStrictEqual(after, expected)) {
    throw what('the edited file would differ from the original by more than the new entries');
  }
  return result;
}

function parseStrict(text: string, what: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    throw new Error(`${what}: ${problems[0]!.message.split('\n')[0]}`);
  }
  return doc;
}

/** The names of a top-level map's entry lines (`  name:` at two spaces). */
function entryNames(lines: readonly string[]): string[] {
  return lines.flatMap((line) => /^ {2}([A-Za-z0-9_.-]+):/.exec(line)?.[1] ?? []);
}

function aliasesIn(lines: readonly string[]): string[] {
  return lines.flatMap((line) => [...line.matchAll(/:\s+\*([A-Za-z0-9_-]+)\s*$/g)].map((match) => match[1]!));
}

/** A node as plain data, aliases kept as `{ '*': anchor }` (two files' anchors differ, their use must not). */
function plain(node: unknown): unknown {
  if (isAlias(node)) {
    return { '*': node.source };
  }
  if (isScalar(node)) {
    return node.value;
  }
  if (isSeq(node)) {
    return node.items.map(plain);
  }
  if (isMap(node)) {
    return Object.fromEntries(node.items.map((pair) => [String(plain(pair.key)), plain(pair.value)]));
  }
  return node ?? null;
}
