/**
 * A scrolled list of rows of one fixed height that puts only the rows in
 * view (and a few either side) in the DOM: 10,000 jobs stay a few dozen
 * nodes. A header, if given, stays at the top and scrolls sideways with the
 * rows.
 */
import * as React from 'react';

import { visibleWindow } from '../jobTable';

export function VirtualRows<T>(props: {
  rows: ReadonlyArray<T>;
  rowHeight: number;
  renderRow: (row: T, index: number) => JSX.Element;
  header?: JSX.Element;
  /** The header's height, so the rows under it are counted right. */
  headerHeight?: number;
  className?: string;
  /** Shown under the header when there are no rows. */
  empty?: JSX.Element;
}): JSX.Element {
  const { rows, rowHeight, renderRow } = props;
  const headerHeight = props.header ? (props.headerHeight ?? rowHeight) : 0;
  const ref = React.useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [height, setHeight] = React.useState(0);
  React.useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    if (typeof ResizeObserver === 'undefined') {
      setHeight(node.clientHeight);
      return;
    }
    // Told the height once the browser has laid the rows out (and on every
    // resize), rather than forcing a layout of the whole page to ask now.
    const observer = new ResizeObserver(entries =>
      setHeight(entries[entries.length - 1].contentRect.height)
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  const { start, end } = visibleWindow(
    scrollTop - headerHeight,
    // At least the browser window's height: the first render (before the
    // viewport is measured) already has every row that can show, so the
    // measure that follows changes nothing in the DOM.
    Math.max(height, window.innerHeight) - headerHeight,
    rowHeight,
    rows.length
  );
  const shown: JSX.Element[] = [];
  for (let index = start; index < end; index++) {
    shown.push(renderRow(rows[index], index));
  }
  return (
    <div
      ref={ref}
      className={`jp-Batch-VirtualRows ${props.className ?? ''}`}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
    >
      {props.header}
      <div
        className="jp-Batch-VirtualRowsBody"
        style={{ height: rows.length * rowHeight, position: 'relative' }}
      >
        <div
          className="jp-Batch-VirtualRowsWindow"
          style={{ transform: `translateY(${start * rowHeight}px)` }}
        >
          {shown}
        </div>
      </div>
      {rows.length === 0 && props.empty}
    </div>
  );
}
