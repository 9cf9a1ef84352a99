export interface WaitForOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between polls. Default 25 ms. */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /** Rethrow the condition's first error instead of retrying until the timeout. Default false. */
  failFast?: boolean;
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or `timeoutMs` passes.
 * Tests wait for conditions, never for fixed sleeps.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, what = 'condition', failFast = false }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  // monotonic: this VM's wall clock has been seen to jump forward by a minute, which expired
  // Date.now()-based deadlines at once
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) {
        return value;
      }
    } catch (error) {
      if (failFast) {
        throw error;
      }
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
