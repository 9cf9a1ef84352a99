import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** Variables whose values are never echoed, not even inside an error message. */
const SECRET_NAME_PATTERN = /password|secret|token|key/i;

export interface ConfigProblem {
  /** The environment variable at fault (`REDIS_URL`, `ADMIN_PASSWORD_FILE`), or `(config)` for the whole. */
  readonly variable: string;
  readonly message: string;
}

/** The environment does not describe a valid configuration; `problems` lists every fault at once. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super([`invalid configuration (${count}):`, ...problems.map((p) => `${p.variable}: ${p.message}`)].join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export interface LoadConfigOptions {
  /** Reads a `*_FILE` secret. Default: `fs.readFileSync(path, 'utf8')`. */
  readFile?: (path: string) => string;
}

/**
 * Reads the variables named by `schema`'s keys from `env`, validates them all, and returns the
 * parsed configuration, deep-frozen. A variable `K` may instead come from the file named by
 * `K_FILE` (Docker secrets), with one trailing newline removed; setting both is an error. An empty
 * value counts as unset (compose writes `FOO: ${FOO}` as an empty string when the host has no FOO),
 * so the schema's default applies; any other value that does not validate is an error, never
 * replaced by the default. Throws a {@link ConfigError} listing every problem; values of secret-looking
 * variables (password, secret, token, key) never appear in it.
 *
 * This is the one place that reads `process.env`.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: LoadConfigOptions = {},
): DeepReadonly<z.output<S>> {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const problems: ConfigProblem[] = [];
  const input: Record<string, string> = {};
  const secrets: string[] = [];

  for (const variable of Object.keys(schema.shape)) {
    const fileVariable = `${variable}_FILE`;
    const direct = nonEmpty(env[variable]);
    const path = nonEmpty(env[fileVariable]);
    if (direct !== undefined && path !== undefined) {
      problems.push({ variable, message: `set either ${variable} or ${fileVariable}, not both` });
      continue;
    }
    let value = direct;
    if (path !== undefined) {
      try {
        value = stripOneNewline(readFile(path));
      } catch (error) {
        // the reason (ENOENT, EACCES) and the path help; the file's contents must never be shown
        const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        problems.push({ variable: fileVariable, message: `cannot read file ${path} (${reason})` });
        continue;
      }
    }
    if (value !== undefined) {
      input[variable] = value;
      if (SECRET_NAME_PATTERN.test(variable) || path !== undefined) {
        secrets.push(value);
      }
    }
  }

  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, ...rest] = issue.path;
      // a problem is reported once: a failed file read already explains the missing value
      const variable = head === undefined ? '(config)' : String(head);
      if (problems.some((problem) => problem.variable === `${variable}_FILE` || problem.variable === variable)) {
        continue;
      }
      const where = rest.length > 0 ? ` (at ${rest.map(String).join('.')})` : '';
      // zod's "expected string, received undefined" means the operator did not set it
      const missing = issue.code === 'invalid_type' && rest.length === 0 && input[variable] === undefined;
      problems.push({ variable, message: missing ? 'is required' : `${issue.message}${where}` });
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.map((problem) => ({ ...problem, message: hide(problem.message, secrets) })));
  }
  return deepFreeze(parsed.data) as DeepReadonly<z.output<S>>;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) {
    return text.slice(0, -2);
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** A schema's custom message might quote its input: cut any secret value out of it. */
function hide(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret.length > 0) {
      out = out.split(secret).join('[REDACTED]');
    }
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      deepFreeze((value as Record<string | symbol, unknown>)[key]);
    }
  }
  return value;
}
