/**
 * The broker's error taxonomy. Each error has a stable `code` so a service can map it to a status
 * (HTTP lives in `images/*`, never here) without matching on message text.
 */
export class BrokerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One rule one field broke, e.g. `{ path: 'source.service', rule: 'required', message: ... }`. */
export interface EnvelopeIssue {
  /** Dotted path of the offending field; `''` for the envelope as a whole. */
  readonly path: string;
  /** Short machine-readable rule name (`required`, `type`, `max_bytes`, `format`, ...). */
  readonly rule: string;
  readonly message: string;
}

/** The message is malformed or too large. Expected (caller's fault); never retried. */
export class EnvelopeValidationError extends BrokerError {
  readonly issues: readonly EnvelopeIssue[];

  constructor(issues: readonly EnvelopeIssue[]) {
    super('ENVELOPE_INVALID', `invalid envelope: ${issues.map(formatIssue).join('; ')}`);
    this.issues = issues;
  }
}

function formatIssue(issue: EnvelopeIssue): string {
  return `${issue.path || '(envelope)'}: ${issue.message} [${issue.rule}]`;
}

/** Redis could not be reached in time; the message was NOT stored (or its storage is unconfirmed). */
export class BrokerUnavailableError extends BrokerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BROKER_UNAVAILABLE', message, options);
  }
}

/** The publish buffer is full: the caller must slow down or retry later. Nothing was stored. */
export class BrokerBackpressureError extends BrokerError {
  constructor(message: string) {
    super('BROKER_BACKPRESSURE', message);
  }
}

/** The broker was closed; nothing more is accepted. */
export class BrokerClosedError extends BrokerError {
  constructor(message = 'broker is closed') {
    super('BROKER_CLOSED', message);
  }
}

/** A name (channel, group) breaks the naming rule. */
export class InvalidNameError extends BrokerError {
  constructor(kind: string, name: string, rule: string) {
    super('INVALID_NAME', `invalid ${kind} name ${JSON.stringify(name)}: ${rule}`);
  }
}

/** The broker configuration (BROKER, REDIS_URL, KAFKA_BROKERS, ...) is invalid; `problems` lists each. */
export class BrokerConfigError extends BrokerError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('BROKER_CONFIG_INVALID', `invalid broker configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
