import { NAME_PATTERN, NAME_RULE } from '@mupets/broker';
import { z } from 'zod';

// Building blocks for `loadConfig` schemas. Each takes the raw string from the environment, so the
// schema reads as the list of variables it is; a value that does not parse is an error, and the
// default applies only when the variable is absent. Messages never quote the value (it may be secret).

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

export interface EnvIntOptions {
  /** Used when the variable is absent. Default: none (the variable is required). */
  default?: number;
  /** Smallest accepted value. Default: none. */
  min?: number;
  /** Largest accepted value. Default: none. */
  max?: number;
}

/** A whole number written in decimal (`"12"`, `"-3"`); `"12abc"`, `"1.5"` and `"1e3"` are errors. */
export function envInt(options: EnvIntOptions = {}): z.ZodType<number, string | undefined> {
  let number = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');
  if (options.min !== undefined) {
    number = number.refine((n) => n >= options.min!, `must be at least ${options.min}`);
  }
  if (options.max !== undefined) {
    number = number.refine((n) => n <= options.max!, `must be at most ${options.max}`);
  }
  const schema = requiredString()
    .trim()
    .regex(/^[+-]?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(number);
  return withDefault(schema, options.default);
}

export interface EnvBoolOptions {
  /** Used when the variable is absent. Default: none (the variable is required). */
  default?: boolean;
}

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** `true`/`false`, `1`/`0` or `yes`/`no`, in any case; anything else is an error. */
export function envBool(options: EnvBoolOptions = {}): z.ZodType<boolean, string | undefined> {
  const schema = requiredString()
    .trim()
    .toLowerCase()
    .refine((word) => TRUE_WORDS.includes(word) || FALSE_WORDS.includes(word), 'must be true/false, 1/0 or yes/no')
    .transform((word) => TRUE_WORDS.includes(word));
  return withDefault(schema, options.default);
}

export interface EnvUrlOptions {
  /** Used when the variable is absent. Default: none (the variable is required). */
  default?: string;
  /** Accepted schemes, with or without the colon (`['redis', 'rediss']`). Default: any. */
  protocols?: readonly string[];
}

/** An absolute URL, kept as the string given (so it can be passed on unchanged). */
export function envUrl(options: EnvUrlOptions = {}): z.ZodType<string, string | undefined> {
  const protocols = options.protocols?.map((protocol) => (protocol.endsWith(':') ? protocol : `${protocol}:`));
  const schema = requiredString()
    .trim()
    .superRefine((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'Invalid URL' });
        return;
      }
      if (protocols && !protocols.includes(url.protocol)) {
        ctx.addIssue({ code: 'custom', message: `URL scheme must be one of ${protocols.join(' ')}` });
      }
    });
  return withDefault(schema, options.default);
}

/** One of `values`, exactly as written; `defaultValue` applies when the variable is absent. */
export function envEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue?: T[number],
): z.ZodType<T[number], string | undefined> {
  const schema = z.enum(values as unknown as { [K in T[number]]: K }, {
    error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${values.join(', ')}`),
  });
  return withDefault(schema as unknown as z.ZodType<T[number], string>, defaultValue);
}

/** A channel name, by the broker's own rule. */
export function envChannel(defaultValue?: string): z.ZodType<string, string | undefined> {
  return withDefault(requiredString().trim().regex(NAME_PATTERN, `a channel name: ${NAME_RULE}`), defaultValue);
}

/** A comma-separated list of channel names (`logs,events`): at least one, each once. */
export function envChannels(defaultValue?: readonly string[]): z.ZodType<string[], string | undefined> {
  const schema = requiredString()
    .transform((value) => value.split(',').map((channel) => channel.trim()))
    .pipe(
      z
        .array(z.string().regex(NAME_PATTERN, `channel names: ${NAME_RULE}`))
        .min(1)
        .refine((channels) => new Set(channels).size === channels.length, 'channel names must be unique'),
    );
  return withDefault(schema, defaultValue === undefined ? undefined : [...defaultValue]);
}

function withDefault<T>(schema: z.ZodType<T, string>, value: T | undefined): z.ZodType<T, string | undefined> {
  // zod's default applies to `undefined` only, and loadConfig passes absent variables as undefined
  return value === undefined ? schema : schema.default(value as never);
}
