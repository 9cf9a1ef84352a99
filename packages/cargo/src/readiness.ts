/** A readiness check: resolves when the dependency is usable, rejects (or times out) when not. */
export type HealthCheck = (signal: AbortSignal) => Promise<void> | void;

export interface CheckResult {
  ok: boolean;
  error?: string;
}

/** What every `/readyz` answers (200 when ready, else 503): the outcome of each check by name. */
export interface Readiness {
  status: 'ready' | 'not_ready';
  checks: Record<string, CheckResult>;
}

/**
 * `work`'s result, or a rejection (`timed out after <ms> ms`) once `ms` have passed; `work`'s
 * signal is aborted then, so it can let go of what it holds. A synchronous throw is a rejection.
 */
export async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T> | T, ms: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${ms} ms`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one check under a timeout: `{ ok }`, or `{ ok: false, error }` saying why. Never rejects. */
export async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  try {
    await withTimeout(check, timeoutMs);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The readiness answer for these outcomes: ready when every check passed. */
export function readinessOf(checks: Record<string, CheckResult>): Readiness {
  return { status: Object.values(checks).every((check) => check.ok) ? 'ready' : 'not_ready', checks };
}
