// Only the rows in sight (plus a few) are in the DOM; the rest is an empty spacer of the right
// height. Rows have one fixed height, so the visible range is plain arithmetic.
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps {
  count: number;
  rowHeight: number;
  /** Bumped whenever the rows changed (the list reads them through renderRow). */
  version: number;
  renderRow: (index: number) => ComponentChildren;
  /** Keep the newest row in sight while rows arrive. */
  follow: boolean;
  /** The user scrolled: whether the end is in sight now, and whether the top is. */
  onScrolled: (atEnd: boolean, atTop: boolean) => void;
  /** Rows added in front since the last render: the view shifts by them so nothing jumps. */
  prependedRows: number;
  label: string;
}

const OVERSCAN = 8;

export function VirtualList(props: VirtualListProps) {
  const { count, rowHeight, follow, prependedRows } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const programmatic = useRef(false);

  useEffect(() => {
    const element = scroller.current;
    if (!element) {
      return undefined;
    }
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) {
      return;
    }
    if (follow) {
      const bottom = Math.max(0, count * rowHeight - element.clientHeight);
      if (Math.abs(element.scrollTop - bottom) > 1) {
        programmatic.current = true;
        element.scrollTop = bottom;
      }
      setScrollTop(element.scrollTop);
    } else if (prependedRows > 0) {
      programmatic.current = true;
      element.scrollTop += prependedRows * rowHeight;
      setScrollTop(element.scrollTop);
    }
  }, [props.version, count, follow, prependedRows, rowHeight]);

  const onScroll = (): void => {
    const element = scroller.current;
    if (!element) {
      return;
    }
    setScrollTop(element.scrollTop);
    if (programmatic.current) {
      programmatic.current = false;
      return;
    }
    const atEnd = element.scrollTop + element.clientHeight >= element.scrollHeight - rowHeight;
    props.onScrolled(atEnd, element.scrollTop < rowHeight * 3);
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const rows: ComponentChildren[] = [];
  for (let index = first; index < last; index++) {
    rows.push(
      <div
        class="vrow"
        key={index}
        style={{ transform: `translateY(${index * rowHeight}px)`, height: `${rowHeight}px` }}
      >
        {props.renderRow(index)}
      </div>,
    );
  }
  return (
    <div class="vlist" ref={scroller} onScroll={onScroll} role="log" aria-label={props.label} tabIndex={0}>
      <div class="vlist-spacer" style={{ height: `${count * rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
