// Load something now and again every few seconds, with its error kept apart from its last value.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, inBackground } from './api';

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  /** When the last successful load finished. */
  at: Date | undefined;
  reload: () => void;
}

/** Calls `load` at once and every `intervalMs` (0: once); keeps the last good value on errors. */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
  deps: unknown[] = [],
): Polled<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<ApiError | Error | undefined>();
  const [loading, setLoading] = useState(true);
  const [at, setAt] = useState<Date | undefined>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // the first load is the user's (the page opened); the repeats are the browser's own
    const run = async (repeat: boolean): Promise<void> => {
      setLoading(true);
      try {
        const load = () => loadRef.current(controller.signal);
        const value = await (repeat ? inBackground(load) : load());
        if (!controller.signal.aborted) {
          setData(value);
          setError(undefined);
          setAt(new Date());
        }
      } catch (caught) {
        if (!controller.signal.aborted) {
          setError(caught instanceof Error ? caught : new Error(String(caught)));
        }
      } finally {
        if (!controller.signal.aborted) {
          setLoading(false);
          if (intervalMs > 0) {
            timer = setTimeout(() => void run(true), intervalMs);
          }
        }
      }
    };
    void run(false);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [intervalMs, tick, ...deps]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, at, reload };
}
