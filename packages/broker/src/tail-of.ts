import type { StreamEntry, Tail } from './types';

/**
 * A Tail over a backend's reading generator. `close()` runs once: it drops the tail from its
 * broker (`onClose`), stops the reads (`stop` must break a read that is blocked waiting), then
 * ends the generator. Leaving a `for await` early closes the tail the same way.
 */
export function tailOf(
  entries: AsyncGenerator<StreamEntry, undefined>,
  stop: () => Promise<void>,
  onClose: (tail: Tail) => void,
): Tail {
  let closed = false;
  const tail: Tail = {
    next: () => entries.next(),
    return: async () => {
      await tail.close();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return tail;
    },
    async close() {
      if (!closed) {
        closed = true;
        onClose(tail);
        await stop();
        await entries.return(undefined);
      }
    },
  };
  return tail;
}
