/**
 * The region and columns fields of "Run over catalog".
 */
import * as React from 'react';

import { IRegionFields, parseColumns, RegionType } from '../catalog';

const REGION_LABELS: [RegionType, string][] = [
  ['none', 'Whole sky'],
  ['cone', 'Cone'],
  ['box', 'Box'],
  ['polygon', 'Polygon']
];

/** The numeric inputs of each region type: field, label, placeholder. */
const REGION_INPUTS: Record<
  'cone' | 'box',
  [keyof IRegionFields, string, string][]
> = {
  cone: [
    ['ra', 'RA (deg)', '40'],
    ['dec', 'Dec (deg)', '10'],
    ['radiusArcsec', 'Radius (arcsec)', '3600']
  ],
  box: [
    ['raMin', 'RA min', '30'],
    ['raMax', 'RA max', '50'],
    ['decMin', 'Dec min', '0'],
    ['decMax', 'Dec max', '20']
  ]
};

export function RegionFields(props: {
  region: IRegionFields;
  update: (patch: Partial<IRegionFields>) => void;
}): JSX.Element {
  const { region, update } = props;
  const inputs =
    region.type === 'cone' || region.type === 'box'
      ? REGION_INPUTS[region.type]
      : [];
  return (
    <>
      <div className="jp-Batch-Resources jp-Batch-Region">
        <label className="jp-Batch-Field">
          <span>Region</span>
          <select
            className="jp-mod-styled"
            name="regionType"
            value={region.type}
            onChange={e => update({ type: e.target.value as RegionType })}
          >
            {REGION_LABELS.map(([type, label]) => (
              <option key={type} value={type}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {inputs.map(([field, label, placeholder]) => (
          <label className="jp-Batch-Field" key={field}>
            <span>{label}</span>
            <input
              className="jp-mod-styled"
              name={field}
              type="text"
              inputMode="decimal"
              placeholder={placeholder}
              value={region[field]}
              onChange={e => update({ [field]: e.target.value })}
            />
          </label>
        ))}
      </div>
      {region.type === 'box' && (
        <div className="jp-Batch-Hint">
          RA min larger than RA max wraps through 0°.
        </div>
      )}
      {region.type === 'polygon' && (
        <label className="jp-Batch-Field">
          <span>Vertices</span>
          <textarea
            className="jp-mod-styled"
            name="vertices"
            rows={4}
            placeholder={'ra, dec a line, e.g.\n38, 8\n42, 8\n42, 12\n38, 12'}
            value={region.vertices}
            onChange={e => update({ vertices: e.target.value })}
          />
        </label>
      )}
    </>
  );
}

/**
 * The columns text, and once a plan names the catalog's columns a checkbox
 * each that adds or removes the name from the text.
 */
export function ColumnFields(props: {
  text: string;
  available: ReadonlyArray<{ name: string; type: string }>;
  update: (text: string) => void;
}): JSX.Element {
  const { text, available, update } = props;
  const chosen = parseColumns(text);
  const toggle = (name: string, on: boolean) => {
    const next = on
      ? [...chosen, name]
      : chosen.filter(column => column !== name);
    update(next.join(', '));
  };
  return (
    <>
      <label className="jp-Batch-Field">
        <span>Columns</span>
        <input
          className="jp-mod-styled"
          name="columns"
          type="text"
          placeholder="all columns; or e.g. id, ra, dec, mag"
          value={text}
          onChange={e => update(e.target.value)}
        />
      </label>
      {available.length > 0 && (
        <div className="jp-Batch-Columns">
          {available.map(column => (
            <label
              className="jp-Batch-Column"
              key={column.name}
              title={column.type}
            >
              <input
                type="checkbox"
                data-column={column.name}
                checked={chosen.includes(column.name)}
                onChange={e => toggle(column.name, e.target.checked)}
              />
              {column.name}
            </label>
          ))}
        </div>
      )}
    </>
  );
}
