import { type CatalogPlan, planCatalogRun, readCatalogInfo, type Region } from '../../src/catalog';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRowGroupSizes } from '../../src/catalog/footer-sizes';
import { BUILD_TIMEOUT, type Expected, expectedFor, fixtureCatalog, key } from './helpers';
import { nativeImport } from './native-import';

jest.mock('../../src/catalog/hyparquet-loader', () => ({
  loadHyparquet: () => require('./native-import').nativeImport('hyparquet'),
}));

/**
 * Planning against a real HATS catalog (tests/fixtures/make_catalog.py: clumps of rows at
 * (40, 10), (150, 2), (210, -30), (320, 45); 10 partitions at orders 0, 2, 3, 4), checked against
 * answers computed independently in Python: pandas over the rows, and hats' own selection.
 */
const REGIONS: Region[] = [
  { type: 'cone', ra: 40, dec: 10, radiusArcsec: 3600 },
  { type: 'cone', ra: 150, dec: 2, radiusArcsec: 5 * 3600 },
  { type: 'cone', ra: 213, dec: -27, radiusArcsec: 30 },
  { type: 'cone', ra: 0, dec: 0, radiusArcsec: 100 * 3600 }, // wider than a hemisphere
  { type: 'cone', ra: 0, dec: 89, radiusArcsec: 2 * 3600 }, // at the pole, no data
  { type: 'box', ra: [35, 45], dec: [5, 15] },
  { type: 'box', ra: [300, 50], dec: [0, 60] }, // wraps through ra = 0
  { type: 'box', ra: [140, 160], dec: [-10, 10] },
  {
    type: 'polygon',
    vertices: [
      [200, -40],
      [220, -40],
      [220, -20],
      [200, -20],
    ],
  },
  {
    type: 'polygon',
    vertices: [
      [30, 0],
      [50, 0],
      [40, 20],
    ],
  },
  {
    type: 'polygon',
    vertices: [
      [300, 30],
      [340, 30],
      [340, 60],
      [300, 60],
    ],
  },
];

describe('planCatalogRun on a real HATS catalog', () => {
  let catalog: string;
  let expected: Expected;
  let plans: CatalogPlan[];
  beforeAll(async () => {
    catalog = fixtureCatalog();
    expected = expectedFor(catalog, REGIONS);
    plans = await Promise.all(REGIONS.map(region => planCatalogRun({ catalogDir: catalog, region })));
  }, BUILD_TIMEOUT);

  it('reads the partition index, properties and sizes', async () => {
    const info = await readCatalogInfo(catalog);
    expect(info).toMatchObject({ name: 'synthetic', raColumn: 'ra', decColumn: 'dec', totalRows: 5000, footers: '_metadata' });
    expect(info.columns).toEqual([
      { name: 'id', type: 'INT64' },
      { name: 'ra', type: 'DOUBLE' },
      { name: 'dec', type: 'DOUBLE' },
      { name: 'mag', type: 'DOUBLE' },
      { name: 'flux', type: 'DOUBLE' },
      { name: 'band', type: 'STRING' },
      { name: '_healpix_29', type: 'INT64' },
    ]);
    expect(info.partitions.map(key).sort()).toEqual(Object.keys(expected.partitions).sort());
    for (const p of info.partitions) {
      const want = expected.partitions[key(p)];
      expect({ rows: p.rows, bytes: p.bytes }).toEqual({ rows: want.rows, bytes: want.bytes });
      expect(p.path).toBe(`${catalog}/dataset/Norder=${p.order}/Dir=0/Npix=${p.pixel}.parquet`);
    }
  });

  it.each(REGIONS.map((r, i) => [JSON.stringify(r), i]))('never misses a partition with matching rows: %s', (_, i) => {
    const ours = new Set(plans[i as number].partitions.map(key));
    const matching = expected.regions[i as number].matching!.map(key);
    expect(matching.filter(k => !ours.has(k))).toEqual([]);
  });

  it.each(REGIONS.map((r, i) => [JSON.stringify(r), i]))('selects what hats selects, plus at most its neighbours: %s', (_, i) => {
    const ours = plans[i as number].partitions.map(key);
    const { hats, near_hats } = expected.regions[i as number];
    expect(hats.map(key).filter(k => !ours.includes(k))).toEqual([]); // ours ⊇ hats
    const near = new Set(near_hats.map(key));
    expect(ours.filter(k => !near.has(k))).toEqual([]); // ours ⊆ hats + neighbours
  });

  it('totals rows and bytes from the footers, of the requested columns only', async () => {
    const region = REGIONS[6];
    const all = await planCatalogRun({ catalogDir: catalog, region });
    const some = await planCatalogRun({ catalogDir: catalog, region, columns: ['ra', 'dec', 'mag'] });
    const picked = all.partitions.map(p => expected.partitions[key(p)]);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(all.totals).toEqual({
      partitions: picked.length,
      rows: sum(picked.map(p => p.rows)),
      bytes: sum(picked.map(p => p.bytes)),
    });
    expect(some.totals).toEqual({
      partitions: picked.length,
      rows: all.totals.rows,
      bytes: sum(picked.map(p => p.columnBytes.ra + p.columnBytes.dec + p.columnBytes.mag)),
    });
    expect(some.partitions.map(p => p.bytes)).toEqual(picked.map(p => p.columnBytes.ra + p.columnBytes.dec + p.columnBytes.mag));
  });

  it('plans the whole catalog without a region, and estimates core-hours from the rows', async () => {
    const plan = await planCatalogRun({ catalogDir: catalog, secondsPerMillionRows: 3600, cpus: 4 });
    expect(plan.totals.partitions).toBe(10);
    expect(plan.totals.rows).toBe(5000);
    expect(plan.region).toBeNull();
    // 5000 rows at one core-hour per million rows
    expect(plan.estimate.coreHours).toBeCloseTo(0.005, 10);
    expect(plan.estimate.cpus).toBe(4);
    expect(plan.estimate.wallHours).toBeGreaterThanOrEqual(0.005 / 4);
    expect(plan.catalog).toMatchObject({ name: 'synthetic', totalPartitions: 10, orders: [0, 2, 3, 4] });
    expect(plan.timings.ms).toBeGreaterThan(0);
  });

  it('selects every partition for the whole sky as a box', async () => {
    const plan = await planCatalogRun({ catalogDir: catalog, region: { type: 'box', ra: [0, 360], dec: [-90, 90] } });
    expect(plan.totals.partitions).toBe(10);
  });

  it('reads the same row groups from _metadata as hyparquet does', async () => {
    const file = readFileSync(join(catalog, 'dataset/_metadata'));
    const footerLength = file.readUInt32LE(file.length - 8);
    const mine = readRowGroupSizes(file.subarray(file.length - 8 - footerLength, file.length - 8), null);
    const { parquetMetadata } = await nativeImport<typeof import('hyparquet', { with: { 'resolution-mode': 'import' } })>('hyparquet');
    const theirs = parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.length) as ArrayBuffer);
    expect(mine.columns).toEqual(theirs.schema.slice(1).map(s => s.name));
    expect(mine.groups.map(g => ({ filePath: g.filePath, rows: g.rows, bytes: [...g.columnBytes] }))).toEqual(
      theirs.row_groups.map(g => ({
        filePath: g.columns[0].file_path,
        rows: Number(g.num_rows),
        bytes: g.columns.map(c => Number(c.meta_data!.total_compressed_size)),
      })),
    );
  });
});
