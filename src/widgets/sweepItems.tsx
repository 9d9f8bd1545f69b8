/**
 * A sweep's items in the job details: a square each, or one bar for large
 * sweeps; a click picks the item whose log the Log section follows.
 */
import * as React from 'react';

import { TranslationBundle, loadTrans } from '../translation';
import { countSweepItems, sweepCountsLine, sweepItemState } from './format';

/** Above this many items a sweep is drawn as one bar: squares would be too many DOM nodes. */
export const MAX_ITEM_SQUARES = 2000;

/** The bar's segments, in this order. */
const BAR_ORDER = ['d', 'f', 'r', 'h', 'q', 'c'];

/**
 * A sweep's items: one square each, coloured by state, or for large sweeps
 * a bar of the shares and a field to pick an item by number. A click picks
 * the item whose log the Log section follows.
 */
export function SweepItems(props: {
  items: string;
  selected: number | null;
  onSelect: (item: number) => void;
  trans?: TranslationBundle;
}): JSX.Element {
  const { items, selected, onSelect } = props;
  const trans = props.trans ?? loadTrans();
  return (
    <div className="jp-Batch-Sweep">
      <div className="jp-Batch-SweepCounts">
        {sweepCountsLine(items, trans)}
      </div>
      {items.length <= MAX_ITEM_SQUARES ? (
        <ItemSquares
          items={items}
          selected={selected}
          onSelect={onSelect}
          trans={trans}
        />
      ) : (
        <ItemBar
          items={items}
          selected={selected}
          onSelect={onSelect}
          trans={trans}
        />
      )}
    </div>
  );
}

function ItemSquares(props: {
  items: string;
  selected: number | null;
  onSelect: (item: number) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { items, selected, onSelect, trans } = props;
  // One handler for the grid rather than one per square: up to 2,000 of them.
  const onClick = (event: React.MouseEvent<HTMLDivElement>) => {
    const square = (event.target as HTMLElement).closest<HTMLElement>(
      '[data-item]'
    );
    if (square) {
      onSelect(Number(square.dataset.item));
    }
  };
  return (
    <div className="jp-Batch-SweepGrid" onClick={onClick}>
      {Array.from(items, (letter, index) => (
        <span
          key={index}
          className={`jp-Batch-SweepItem${index === selected ? ' jp-mod-selected' : ''}`}
          data-item={index}
          data-state={letter}
          title={trans.__('item %1: %2', index, sweepItemState(letter, trans))}
        />
      ))}
    </div>
  );
}

function ItemBar(props: {
  items: string;
  selected: number | null;
  onSelect: (item: number) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { items, selected, onSelect, trans } = props;
  const counts = countSweepItems(items);
  return (
    <>
      <div className="jp-Batch-SweepBar">
        {BAR_ORDER.filter(letter => counts[letter] > 0).map(letter => (
          <span
            key={letter}
            className="jp-Batch-SweepBarPart"
            data-state={letter}
            style={{ flexGrow: counts[letter] }}
            title={trans.__(
              '%1 %2',
              counts[letter],
              sweepItemState(letter, trans)
            )}
          />
        ))}
      </div>
      <label className="jp-Batch-SweepPick">
        {trans.__('Log of item')}{' '}
        <input
          className="jp-mod-styled"
          name="sweep-item"
          type="number"
          placeholder={`0–${items.length - 1}`}
          defaultValue={selected ?? ''}
          onKeyDown={event => {
            const value = Number(event.currentTarget.value);
            if (
              event.key === 'Enter' &&
              Number.isInteger(value) &&
              value >= 0 &&
              value < items.length
            ) {
              onSelect(value);
            }
          }}
        />
      </label>
    </>
  );
}
