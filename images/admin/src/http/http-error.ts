import type { z } from 'zod';

/** One rule one input field broke, as the API reports it. */
export interface InputIssue {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * An expected failure with its HTTP status and stable code (see docs/admin-api.md). Anything
 * else reaching the error handler is a bug: a generic 500.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: readonly InputIssue[] | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { issues?: readonly InputIssue[]; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.issues = options?.issues;
  }
}

/** 400 `invalid_input` naming each field and rule. */
export function invalidInput(issues: readonly InputIssue[]): HttpError {
  const message = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
  return new HttpError(400, 'invalid_input', message || 'invalid input', { issues });
}

/** 404 `not_found`. */
export function notFound(what: string): HttpError {
  return new HttpError(404, 'not_found', `${what} not found`);
}

/** zod issues → API issues; `where` (`body`, `query`, `params`) prefixes nothing but names the root. */
export function issuesOfZod(error: z.ZodError, where: string): InputIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '';
    return {
      field: path || keys || where,
      rule: issue.code,
      message: issue.message,
    };
  });
}

/** Parses `input` with `schema`, or throws 400 naming every bad field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw invalidInput(issuesOfZod(parsed.error, where));
  }
  return parsed.data;
}
