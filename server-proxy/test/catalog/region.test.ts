import { CatalogError, parseRegion } from '../../src/catalog';

/** The message parseRegion throws for this input. */
function problem(input: unknown): string {
  try {
    parseRegion(input);
  } catch (e) {
    expect(e).toBeInstanceOf(CatalogError);
    expect((e as CatalogError).code).toBe('invalid_region');
    return (e as Error).message;
  }
  throw new Error(`parseRegion accepted ${JSON.stringify(input)}`);
}

describe('region validation', () => {
  it('accepts cones, boxes (also wrapping through ra 0) and polygons', () => {
    expect(parseRegion({ type: 'cone', ra: 0, dec: -90, radiusArcsec: 648000 })).toEqual({
      type: 'cone',
      ra: 0,
      dec: -90,
      radiusArcsec: 648000,
    });
    expect(parseRegion({ type: 'box', ra: [350, 10], dec: [-5, 5] }).type).toBe('box');
    expect(parseRegion({ type: 'box', ra: [0, 360], dec: [-90, 90] }).type).toBe('box');
    expect(
      parseRegion({
        type: 'polygon',
        vertices: [
          [1, 1],
          [2, 1],
          [2, 2],
        ],
      }).type,
    ).toBe('polygon');
  });

  it('says what is out of range, with the value given', () => {
    expect(problem({ type: 'cone', ra: 10, dec: 95, radiusArcsec: 60 })).toBe(
      'Invalid region: dec must be between -90 and 90 degrees; got 95',
    );
    expect(problem({ type: 'cone', ra: 361, dec: 0, radiusArcsec: 60 })).toBe(
      'Invalid region: ra must be between 0 and 360 degrees; got 361',
    );
    expect(problem({ type: 'cone', ra: 10, dec: 0, radiusArcsec: -5 })).toBe(
      'Invalid region: radiusArcsec must be greater than 0 and at most 648000 (180 degrees); got -5',
    );
    expect(problem({ type: 'cone', ra: 10, dec: 0, radiusArcsec: 0 })).toBe(
      'Invalid region: radiusArcsec must be greater than 0 and at most 648000 (180 degrees); got 0',
    );
    expect(problem({ type: 'box', ra: [10, 20], dec: [-100, 5] })).toBe(
      'Invalid region: dec[0] must be between -90 and 90 degrees; got -100',
    );
  });

  it('explains malformed boxes', () => {
    expect(problem({ type: 'box', ra: [10, 20], dec: [5, -5] })).toBe('Invalid region: dec[0] must be below dec[1]; got [5, -5]');
    expect(problem({ type: 'box', ra: [10, 10], dec: [-5, 5] })).toBe(
      'Invalid region: ra range is empty: ra[0] equals ra[1] (10); for the whole circle use [0, 360]',
    );
    expect(problem({ type: 'box', ra: 10, dec: [-5, 5] })).toBe('Invalid region: ra must be a pair [min, max] of degrees');
  });

  it('explains malformed polygons', () => {
    expect(
      problem({
        type: 'polygon',
        vertices: [
          [1, 1],
          [2, 2],
        ],
      }),
    ).toBe('Invalid region: a polygon needs at least 3 vertices; got 2');
    expect(
      problem({
        type: 'polygon',
        vertices: [
          [1, 1],
          [2, 2],
          [3, 91],
        ],
      }),
    ).toBe('Invalid region: vertex dec must be between -90 and 90 degrees; got 91');
  });

  it('names the region types it knows', () => {
    expect(problem({ type: 'circle', ra: 1, dec: 1 })).toBe('Invalid region: region.type must be "cone", "box" or "polygon"');
    expect(problem({ type: 'cone', ra: 'ten', dec: 1, radiusArcsec: 5 })).toBe('Invalid region: ra must be a number of degrees');
  });
});
