/** One line as the assembler sees it; `position` is opaque (the collector's resume point). */
export interface SourceLine<P> {
  stream: 'stdout' | 'stderr';
  /** Docker's timestamp of the line. */
  ts: string;
  text: string;
  position: P;
}

/** One record: a line, or a line and its continuation lines (a stack trace, a traceback). */
export interface AssembledRecord<P> {
  stream: 'stdout' | 'stderr';
  /** The timestamp of the first line. */
  ts: string;
  /** The lines joined with `\n`. */
  text: string;
  lines: number;
  /** The position of the last line: once the record is published, reading resumes after it. */
  position: P;
  /** Whether continuation lines look like stack frames (`at ...`, `File "..."`). */
  stack: boolean;
}

export interface MultilineOptions {
  /** A record with this many lines is closed and the next line starts a new one. Default 500. */
  maxLines?: number;
  /** A record this long (characters) is closed likewise. Default 32 768. */
  maxChars?: number;
}

export interface MultilineAssembler<P> {
  /** Feeds a line; returns the records it completed (in order). */
  push(line: SourceLine<P>): Array<AssembledRecord<P>>;
  /** Closes the open record (the stream ended, or no line came for a while). */
  flush(): Array<AssembledRecord<P>>;
  /** Whether a record is open. */
  readonly pending: boolean;
}

// Java: `\tat com.x.Y.z(Y.java:1)`, `Caused by: ...`, `... 12 more`; Node: `    at fn (file.js:1:2)`;
// Python: `  File "x.py", line 1, in f` and the indented source line under it
const INDENTED = /^[ \t]+\S/;
const JAVA_CONTINUATION = /^(?:Caused by: |Suppressed: |\s*\.\.\. \d+ (?:more|common frames omitted))/;
const STACK_FRAME = /^\s+(?:at |File ")/;
const PYTHON_TRACEBACK = 'Traceback (most recent call last):';
// the last line of a Python traceback: `ValueError: bad`, `KeyboardInterrupt`, `mod.Error: x`
const PYTHON_EXCEPTION = /^[A-Za-z_][\w.]*(?::\s.*)?$/;

/**
 * Groups continuation lines with the line they continue, per container: Java stack traces
 * (OrientDB, Kafka), Node error stacks and Python tracebacks become one record each. A line
 * continues the open record when it is on the same stream and is indented or a Java `Caused by:`
 * / `... n more` line; a Python traceback also takes its final unindented exception line, which
 * closes it. JSON lines are always records of their own. Pure: the caller decides when to `flush`.
 */
export function createMultilineAssembler<P>(options: MultilineOptions = {}): MultilineAssembler<P> {
  const maxLines = options.maxLines ?? 500;
  const maxChars = options.maxChars ?? 32_768;
  let open: { first: SourceLine<P>; texts: string[]; chars: number; last: SourceLine<P>; stack: boolean } | undefined;

  const close = (): Array<AssembledRecord<P>> => {
    if (!open) {
      return [];
    }
    const record: AssembledRecord<P> = {
      stream: open.first.stream,
      ts: open.first.ts,
      text: open.texts.join('\n'),
      lines: open.texts.length,
      position: open.last.position,
      stack: open.stack,
    };
    open = undefined;
    return [record];
  };

  const continues = (line: SourceLine<P>): 'append' | 'append-and-close' | 'no' => {
    if (!open || line.stream !== open.first.stream || open.texts.length >= maxLines) {
      return 'no';
    }
    if (open.chars + line.text.length > maxChars) {
      return 'no';
    }
    if (INDENTED.test(line.text) || JAVA_CONTINUATION.test(line.text)) {
      return 'append';
    }
    if (
      open.first.text.startsWith(PYTHON_TRACEBACK) &&
      open.texts.length > 1 &&
      INDENTED.test(open.last.text) &&
      PYTHON_EXCEPTION.test(line.text)
    ) {
      return 'append-and-close';
    }
    return 'no';
  };

  return {
    push(line) {
      const verdict = continues(line);
      if (verdict !== 'no' && open) {
        open.texts.push(line.text);
        open.chars += line.text.length + 1;
        open.last = line;
        open.stack ||= STACK_FRAME.test(line.text);
        return verdict === 'append-and-close' ? close() : [];
      }
      const done = close();
      open = { first: line, texts: [line.text], chars: line.text.length, last: line, stack: false };
      // a JSON line never has continuation lines: it is complete now
      if (isJsonObject(line.text)) {
        done.push(...close());
      }
      return done;
    },
    flush: close,
    get pending() {
      return open !== undefined;
    },
  };
}

function isJsonObject(text: string): boolean {
  const trimmed = text.trim();
  return trimmed.startsWith('{') && trimmed.endsWith('}');
}
