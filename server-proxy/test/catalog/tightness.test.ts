import { planCatalogRun, type Region } from '../../src/catalog';
import { BUILD_TIMEOUT, type Expected, expectedFor, key, order5Index } from './helpers';

jest.mock('../../src/catalog/hyparquet-loader', () => ({
  loadHyparquet: () => require('./native-import').nativeImport('hyparquet'),
}));

/**
 * How tight the selection is, on a grid where it shows: every order-5 pixel a partition (12,288,
 * the benchmark's index, bench/plan-bench.py). Bound asserted: hats' own selection ⊆ ours ⊆ hats'
 * selection plus the partitions touching a HEALPix neighbour of a selected one.
 */
const REGIONS: Region[] = [
  { type: 'cone', ra: 45, dec: 20, radiusArcsec: 3600 },
  { type: 'cone', ra: 200, dec: -60, radiusArcsec: 10 * 3600 },
  { type: 'cone', ra: 10, dec: 88, radiusArcsec: 3 * 3600 }, // around the pole
  { type: 'box', ra: [100, 110], dec: [30, 40] },
  { type: 'box', ra: [355, 5], dec: [-5, 5] }, // wraps through ra = 0
  // a polar cap. Not [0, 360]: hats wraps that to [0, 0] and then misses 6 of these 112
  // partitions (e.g. 5/4060, whose corner reaches dec 81.2); ours gives the same 112 for both.
  { type: 'box', ra: [0, 359.99], dec: [80, 90] },
  {
    type: 'polygon',
    vertices: [
      [150, 10],
      [160, 12],
      [158, 22],
      [148, 18],
    ],
  },
  {
    type: 'polygon',
    vertices: [
      [270, -30],
      [300, -30],
      [285, -5],
    ],
  },
];

describe('selection tightness on 12,288 order-5 partitions', () => {
  let index: string;
  let expected: Expected;
  beforeAll(() => {
    index = order5Index();
    expected = expectedFor(index, REGIONS, false);
  }, BUILD_TIMEOUT);

  it.each(REGIONS.map((r, i) => [JSON.stringify(r), i]))('hats ⊆ ours ⊆ hats + neighbours: %s', async (_, i) => {
    const plan = await planCatalogRun({ catalogDir: index, region: REGIONS[i as number] });
    const ours = plan.partitions.map(key);
    const { hats, near_hats } = expected.regions[i as number];
    const mine = new Set(ours);
    expect(hats.map(key).filter(k => !mine.has(k))).toEqual([]);
    const near = new Set(near_hats.map(key));
    expect(ours.filter(k => !near.has(k))).toEqual([]);
    expect(hats.length).toBeGreaterThan(0);
  });

  it('treats ra [0, 360] as the whole circle', async () => {
    const full = await planCatalogRun({ catalogDir: index, region: { type: 'box', ra: [0, 360], dec: [80, 90] } });
    const almost = await planCatalogRun({ catalogDir: index, region: REGIONS[5] });
    expect(full.partitions).toEqual(almost.partitions);
    expect(full.totals.partitions).toBe(112);
  });
});
