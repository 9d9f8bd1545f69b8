import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogError, planCatalogRun, readCatalogInfo } from '../../src/catalog';
import { BUILD_TIMEOUT, fixtureCatalog } from './helpers';

jest.mock('../../src/catalog/hyparquet-loader', () => ({
  loadHyparquet: () => require('./native-import').nativeImport('hyparquet'),
}));

const HINT =
  'A HATS catalog folder holds partition_info.csv, hats.properties and dataset/; choose the catalog folder itself, ' +
  'or write one with lsdb (catalog.to_hats(path)) or hats-import.';

/** Run and return the CatalogError it throws (fails the test if it throws anything else). */
async function failure(run: Promise<unknown>): Promise<CatalogError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogError);
  return error as CatalogError;
}

describe('catalog planning errors', () => {
  let catalog: string;
  let scratch: string;
  beforeAll(() => {
    catalog = fixtureCatalog();
    scratch = mkdtempSync(join(tmpdir(), 'ub-catalog-errors-'));
  }, BUILD_TIMEOUT);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the fixture catalog that a test may damage. */
  function copyOfCatalog(name: string): string {
    const dir = join(scratch, name);
    cpSync(catalog, dir, { recursive: true });
    return dir;
  }

  it('refuses a folder that does not exist', async () => {
    const e = await failure(readCatalogInfo(join(scratch, 'nope')));
    expect(e.code).toBe('not_hats');
    expect(e.message).toBe(`${join(scratch, 'nope')} does not exist; give the path of a HATS catalog folder.`);
  });

  it('refuses an empty folder, naming what is missing', async () => {
    const dir = join(scratch, 'empty');
    mkdirSync(dir);
    const e = await failure(planCatalogRun({ catalogDir: dir }));
    expect(e.code).toBe('not_hats');
    expect(e.message).toBe(`${dir} is not a HATS catalog: partition_info.csv is missing. ${HINT}`);
  });

  it('refuses a folder of plain Parquet files', async () => {
    const dir = join(scratch, 'plain');
    mkdirSync(dir);
    copyFileSync(join(catalog, 'dataset/Norder=0/Dir=0/Npix=3.parquet'), join(dir, 'part-0.parquet'));
    const e = await failure(planCatalogRun({ catalogDir: dir }));
    expect(e.message).toBe(
      `${dir} is not a HATS catalog: partition_info.csv is missing (the folder holds plain Parquet files, ` +
        `which have no HEALPix partition index). ${HINT}`,
    );
  });

  it('refuses a catalog without hats.properties', async () => {
    const dir = copyOfCatalog('no-properties');
    unlinkSync(join(dir, 'hats.properties'));
    const e = await failure(planCatalogRun({ catalogDir: dir }));
    expect(e.message).toBe(`${dir} is not a HATS catalog: hats.properties is missing. ${HINT}`);
  });

  it('falls back to the partition files when dataset/_metadata is missing, with the same answer', async () => {
    const dir = copyOfCatalog('no-metadata');
    unlinkSync(join(dir, 'dataset/_metadata'));
    const region = { type: 'box' as const, ra: [300, 50] as [number, number], dec: [0, 60] as [number, number] };
    const withFooters = await planCatalogRun({ catalogDir: dir, region, columns: ['ra', 'flux'] });
    const withMetadata = await planCatalogRun({ catalogDir: catalog, region, columns: ['ra', 'flux'] });
    expect(withFooters.partitions).toEqual(withMetadata.partitions);
    expect(withFooters.totals).toEqual(withMetadata.totals);
    expect((await readCatalogInfo(dir)).footers).toBe('partition files');
  });

  it('refuses a catalog missing both dataset/_metadata and a partition file', async () => {
    const dir = copyOfCatalog('no-metadata-no-file');
    unlinkSync(join(dir, 'dataset/_metadata'));
    unlinkSync(join(dir, 'dataset/Norder=3/Dir=0/Npix=425.parquet'));
    const e = await failure(planCatalogRun({ catalogDir: dir }));
    expect(e.code).toBe('not_hats');
    expect(e.message).toBe(
      `${dir} is not a HATS catalog: dataset/_metadata is missing and partition file ` +
        `dataset/Norder=3/Dir=0/Npix=425.parquet, listed in partition_info.csv, is missing too. ${HINT}`,
    );
  });

  it('refuses a partition_info.csv without the Norder,Npix header', async () => {
    const dir = copyOfCatalog('bad-index');
    writeFileSync(join(dir, 'partition_info.csv'), 'order,pixel\n0,3\n');
    const e = await failure(planCatalogRun({ catalogDir: dir }));
    expect(e.message).toBe(`${dir} is not a HATS catalog: partition_info.csv has no Norder,Npix header (got "order,pixel"). ${HINT}`);
  });

  it('names unknown columns and lists the available ones', async () => {
    const e = await failure(planCatalogRun({ catalogDir: catalog, columns: ['ra', 'magnitude', 'Dec'] }));
    expect(e.code).toBe('unknown_column');
    expect(e.message).toBe(
      'Columns "magnitude", "Dec" are not in catalog "synthetic". Available columns: id, ra, dec, mag, flux, band, _healpix_29.',
    );
    const one = await failure(planCatalogRun({ catalogDir: catalog, columns: ['nope'] }));
    expect(one.message).toBe('Column "nope" is not in catalog "synthetic". Available columns: id, ra, dec, mag, flux, band, _healpix_29.');
  });

  it('refuses a region out of range before reading the catalog', async () => {
    const e = await failure(
      planCatalogRun({ catalogDir: join(scratch, 'nope'), region: { type: 'cone', ra: 10, dec: 95, radiusArcsec: 60 } }),
    );
    expect(e.code).toBe('invalid_region');
    expect(e.message).toBe('Invalid region: dec must be between -90 and 90 degrees; got 95');
  });

  it('refuses polygons it cannot plan, saying what to do', async () => {
    const wide = await failure(
      planCatalogRun({
        catalogDir: catalog,
        region: {
          type: 'polygon',
          vertices: [
            [0, 0],
            [120, 0],
            [240, 0],
          ],
        },
      }),
    );
    expect(wide.message).toBe('Invalid region: polygon must fit inside a hemisphere; its vertices are spread around the whole sky');
    const repeated = await failure(
      planCatalogRun({
        catalogDir: catalog,
        region: {
          type: 'polygon',
          vertices: [
            [10, 0],
            [20, 0],
            [20, 0],
            [15, 10],
          ],
        },
      }),
    );
    expect(repeated.message).toBe('Invalid region: polygon has the same vertex twice in a row ([20, 0], vertices 2 and 3); remove one');
  });

  it('refuses a corrupt dataset/_metadata, saying how to recover', async () => {
    const dir = copyOfCatalog('bad-metadata');
    const footer = Buffer.from([0x19, 0xfc, 0xff, 0xff, 0xff, 0x0f]); // row_groups: a list far longer than the file
    const length = Buffer.alloc(4);
    length.writeUInt32LE(footer.length);
    writeFileSync(join(dir, 'dataset/_metadata'), Buffer.concat([Buffer.from('PAR1'), footer, length, Buffer.from('PAR1')]));
    const e = await failure(planCatalogRun({ catalogDir: dir }));
    expect(e.message).toBe(
      `${dir} is not a HATS catalog: dataset/_metadata cannot be read (Parquet footer has a list longer than the footer (corrupt)); ` +
        `regenerate it, or delete it to fall back to the partition files. ${HINT}`,
    );
  });
});
