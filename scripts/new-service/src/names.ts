/** The forms of a service name the template uses, each replacing its own placeholder. */
export interface ServiceNames {
  /** `order-mailer`: the directory, compose service, `source.service`, consumer group. */
  readonly kebab: string;
  /** `order_mailer`: secret names. */
  readonly snake: string;
  /** `ORDER_MAILER`: the prefix of the service's own settings. */
  readonly env: string;
  /** `orderMailer`. */
  readonly camel: string;
  /** `OrderMailer`: type and function names. */
  readonly pascal: string;
}

export const NAME_RULE =
  'lower-case letters, digits and single hyphens, starting with a letter and ending with a letter or digit, at most 40 characters';
const NAME_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Names a new service may not take although they fit the rule: the stack's own parts and the
 * prefixes of shared settings (a service `health` would own `HEALTH_PORT`, which every service has).
 */
export const RESERVED_NAMES: readonly string[] = [
  'admin',
  'app',
  'archive',
  'archiver',
  'broker',
  'cargo',
  'cargo-template',
  'docker',
  'events',
  'health',
  'ingest',
  'kafka',
  'log',
  'log-archiver',
  'log-collector',
  'logs',
  'mupets',
  'node',
  'orientdb',
  'redis',
  'shutdown',
  'testkit',
];

/** Why `name` cannot be a service name, or undefined when it can (existing services are checked elsewhere). */
export function nameProblem(name: string): string | undefined {
  if (!NAME_RE.test(name) || name.length > 40) {
    return `"${name}" is not a valid service name: ${NAME_RULE}`;
  }
  if (RESERVED_NAMES.includes(name) || name.includes('cargo-template')) {
    return `"${name}" is reserved (${RESERVED_NAMES.join(', ')})`;
  }
  return undefined;
}

export function serviceNames(kebab: string): ServiceNames {
  const words = kebab.split('-');
  const capital = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
  return {
    kebab,
    snake: words.join('_'),
    env: words.join('_').toUpperCase(),
    camel: words[0]! + words.slice(1).map(capital).join(''),
    pascal: words.map(capital).join(''),
  };
}
