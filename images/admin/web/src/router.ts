// A tiny history router: the pages are few and fixed, so no library.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

/** Goes to a page of the UI without reloading. */
export function navigate(to: string, replace = false): void {
  if (replace) {
    history.replaceState(null, '', to);
  } else {
    history.pushState(null, '', to);
  }
  for (const listener of listeners) {
    listener();
  }
}

addEventListener('popstate', () => {
  for (const listener of listeners) {
    listener();
  }
});

/** The current location (path and query), re-rendering on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = (): void => setTick((tick) => tick + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return { path: location.pathname, search: new URLSearchParams(location.search) };
}

/** Click handler for links inside the app: plain clicks navigate in place, modified clicks open tabs. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest('a');
  if (
    !anchor ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey ||
    anchor.target ||
    anchor.hasAttribute('download') ||
    anchor.origin !== location.origin ||
    anchor.pathname.startsWith('/api/')
  ) {
    return;
  }
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
