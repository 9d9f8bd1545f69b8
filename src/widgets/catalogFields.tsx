/**
 * The region and columns fields of "Run over catalog".
 */
import * as React from 'react';

import { IRegionFields, parseColumns, RegionType } from '../catalog';
import { TranslationBundle } from '../translation';

function regionLabels(trans: TranslationBundle): [RegionType, string][] {
  return [
    ['none', trans.__('Whole sky')],
    ['cone', trans.__('Cone')],
    ['box', trans.__('Box')],
    ['polygon', trans.__('Polygon')]
  ];
}

/** The numeric inputs of a region type: field, label, placeholder. */
function regionInputs(
  trans: TranslationBundle,
  type: RegionType
): [keyof IRegionFields, string, string][] {
  switch (type) {
    case 'cone':
      return [
        ['ra', trans.__('RA (deg)'), '40'],
        ['dec', trans.__('Dec (deg)'), '10'],
        ['radiusArcsec', trans.__('Radius (arcsec)'), '3600']
      ];
    case 'box':
      return [
        ['raMin', trans.__('RA min'), '30'],
        ['raMax', trans.__('RA max'), '50'],
        ['decMin', trans.__('Dec min'), '0'],
        ['decMax', trans.__('Dec max'), '20']
      ];
    case 'none':
    case 'polygon':
      return [];
  }
}

export function RegionFields(props: {
  region: IRegionFields;
  update: (patch: Partial<IRegionFields>) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { region, update, trans } = props;
  const inputs = regionInputs(trans, region.type);
  return (
    <>
      <div className="jp-Batch-Resources jp-Batch-Region">
        <label className="jp-Batch-Field">
          <span>{trans.__('Region')}</span>
          <select
            className="jp-mod-styled"
            name="regionType"
            value={region.type}
            onChange={e => update({ type: e.target.value as RegionType })}
          >
            {regionLabels(trans).map(([type, label]) => (
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
          {trans.__('RA min larger than RA max wraps through 0°.')}
        </div>
      )}
      {region.type === 'polygon' && (
        <label className="jp-Batch-Field">
          <span>{trans.__('Vertices')}</span>
          <textarea
            className="jp-mod-styled"
            name="vertices"
            rows={4}
            placeholder={trans.__(
              'ra, dec a line, e.g.\n38, 8\n42, 8\n42, 12\n38, 12'
            )}
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
  trans: TranslationBundle;
}): JSX.Element {
  const { text, available, update, trans } = props;
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
        <span>{trans.__('Columns')}</span>
        <input
          className="jp-mod-styled"
          name="columns"
          type="text"
          placeholder={trans.__('all columns; or e.g. id, ra, dec, mag')}
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
