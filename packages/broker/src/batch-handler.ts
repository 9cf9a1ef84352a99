import type { BatchHandler, Delivery, HandlerFailure } from './types';

/**
 * Runs a consumer's handler on a batch and returns the entries that failed, by id. If the handler
 * throws for the whole batch, each entry is run alone, so one poison entry cannot hold back the
 * others. The same for every backend.
 */
export async function runBatchHandler(
  handler: BatchHandler,
  batch: readonly Delivery[],
): Promise<Map<string, HandlerFailure>> {
  const failures = new Map<string, HandlerFailure>();
  try {
    const result = await handler(batch);
    for (const failure of result?.failed ?? []) {
      failures.set(failure.id, failure);
    }
    return failures;
  } catch (error) {
    if (batch.length === 1) {
      failures.set(batch[0]!.id, { id: batch[0]!.id, error });
      return failures;
    }
  }
  for (const delivery of batch) {
    for (const [id, failure] of await runBatchHandler(handler, [delivery])) {
      failures.set(id, failure);
    }
  }
  return failures;
}
