import { tableFromArrays, tableToIPC } from 'apache-arrow';
import * as React from 'react';
import { createRoot } from 'react-dom/client';

import {
  buildCatalogSpec,
  definedFunctions,
  EMPTY_REGION,
  ICatalogJobSource,
  ICatalogValues,
  parseColumns,
  parseRegion,
  planLine,
  planRequest
} from '../catalog';
import { BatchModel } from '../model';
import { CatalogRunFollower } from '../services/catalogRun';
import { Batch, DEFAULT_SETTINGS } from '../tokens';
import {
  CatalogDialog,
  PLAN_DEBOUNCE_MS,
  PlanPanel,
  planBlocksSubmit
} from '../widgets/catalog';
import {
  CatalogRun,
  formatCell,
  PreviewTable,
  readPreview
} from '../widgets/catalogRun';
import { JobDetails } from '../widgets/jobs';
import { initialValues } from '../widgets/submit';
import {
  FakeEventSource,
  FakeProxyFetch,
  flush,
  json,
  makeClient,
  makeJob,
  makeQuota
} from './fakes';

const BASE = '/user/alice/user-batch/api';

const PROCESS =
  'def process(df):\n    out = df[df["mag"] < 21].copy()\n    return out';

const source: ICatalogJobSource = {
  notebookPath: 'work/a.ipynb',
  kernelName: 'python3',
  cell: { id: 'fn', type: 'code', source: PROCESS, tags: [] },
  setupCandidates: [
    { id: 's1', type: 'code', source: 'import numpy as np', tags: [] },
    { id: 's2', type: 'code', source: 'LIMIT = 21', tags: [] }
  ]
};

function values(patch: Partial<ICatalogValues> = {}): ICatalogValues {
  return {
    ...initialValues('process over synthetic', DEFAULT_SETTINGS),
    functionName: 'process',
    catalogPath: 'catalogs/synthetic',
    region: EMPTY_REGION,
    columns: '',
    backend: 'local',
    account: 'alice',
    ...patch
  };
}

function makePlan(
  patch: Partial<Batch.ICatalogPlan['quota']> = {}
): Batch.ICatalogPlan {
  return {
    catalog: {
      dir: '/home/alice/catalogs/synthetic',
      name: 'synthetic',
      raColumn: 'ra',
      decColumn: 'dec',
      totalRows: 5000,
      totalPartitions: 10,
      orders: [2, 3],
      columns: [
        { name: 'id', type: 'int64' },
        { name: 'ra', type: 'double' },
        { name: 'dec', type: 'double' },
        { name: 'mag', type: 'double' }
      ]
    },
    totals: { partitions: 4, rows: 1234, bytes: 57344 },
    estimate: {
      coreHours: 0.0021,
      wallHours: 0.002,
      secondsPerMillionRows: 6,
      cpus: 1
    },
    partitionsShown: 4,
    quota: {
      coreHoursLeft: 18.5,
      fits: true,
      message: 'Fits: est. 0.002 of 18.5 core-hours left.',
      ...patch
    }
  };
}

/**
 * Tell React whether renders here are wrapped in act(): the synchronous
 * component tests are, the dialog and sidebar tests wait on real timers.
 */
function actEnvironment(on: boolean): void {
  (
    globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
  ).IS_REACT_ACT_ENVIRONMENT = on;
}

/** Type into a React-controlled field as a person would. */
function type(input: HTMLInputElement | HTMLTextAreaElement, value: string) {
  const proto = Object.getPrototypeOf(input);
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function choose(select: HTMLSelectElement, value: string) {
  select.value = value;
  select.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('definedFunctions', () => {
  it('finds top-level defs in order, not methods or nested helpers', () => {
    expect(definedFunctions(PROCESS)).toEqual(['process']);
    expect(
      definedFunctions(
        'import x\n\ndef a(df):\n    def inner(y):\n        pass\n    return df\n\n' +
          'class K:\n    def method(self):\n        pass\n\nasync def b (df, pixel):\n    pass'
      )
    ).toEqual(['a', 'b']);
    expect(definedFunctions('x = 1\nprint("def f(")')).toEqual([]);
  });
});

describe('regions and columns', () => {
  it('reads a cone, a box and a polygon from the fields', () => {
    expect(
      parseRegion({
        ...EMPTY_REGION,
        type: 'cone',
        ra: '40',
        dec: '10',
        radiusArcsec: '3600'
      })
    ).toEqual({
      region: { type: 'cone', ra: 40, dec: 10, radiusArcsec: 3600 },
      errors: []
    });
    expect(
      parseRegion({
        ...EMPTY_REGION,
        type: 'box',
        raMin: '350',
        raMax: '10',
        decMin: '-5',
        decMax: '5'
      }).region
    ).toEqual({ type: 'box', ra: [350, 10], dec: [-5, 5] });
    expect(
      parseRegion({
        ...EMPTY_REGION,
        type: 'polygon',
        vertices: '38, 8\n\n42 8\n42,12\n'
      }).region
    ).toEqual({
      type: 'polygon',
      vertices: [
        [38, 8],
        [42, 8],
        [42, 12]
      ]
    });
    expect(parseRegion(EMPTY_REGION)).toEqual({ errors: [] });
  });

  it('says which field is wrong and what to type', () => {
    expect(
      parseRegion({
        ...EMPTY_REGION,
        type: 'cone',
        ra: 'forty',
        dec: '10',
        radiusArcsec: '0'
      }).errors
    ).toEqual([
      'Cone RA (degrees) must be a number, e.g. 40.5.',
      'Cone radius (arcsec) must be more than 0.'
    ]);
    expect(
      parseRegion({ ...EMPTY_REGION, type: 'polygon', vertices: '1, 2\nx' })
        .errors
    ).toEqual([
      'Polygon, line 2: expected "ra, dec" in degrees, e.g. "40, 10".'
    ]);
    expect(
      parseRegion({ ...EMPTY_REGION, type: 'polygon', vertices: '1, 2' }).errors
    ).toEqual(['A polygon needs at least 3 vertices, one "ra, dec" a line.']);
  });

  it('splits the columns text on commas and spaces, once each', () => {
    expect(parseColumns(' id, ra dec,,mag, ra ')).toEqual([
      'id',
      'ra',
      'dec',
      'mag'
    ]);
    expect(parseColumns('')).toEqual([]);
  });

  it('asks for a plan only once the fields make one', () => {
    expect(planRequest(values({ catalogPath: ' ' })).errors).toEqual([
      'Give the catalog folder (a HATS catalog), e.g. catalogs/synthetic.'
    ]);
    expect(
      planRequest(values({ columns: 'id, mag', cpus: 2 })).request
    ).toEqual({ path: 'catalogs/synthetic', columns: ['id', 'mag'], cpus: 2 });
  });
});

describe('buildCatalogSpec', () => {
  it('builds a catalog job with the region, columns, function and setup', () => {
    const spec = buildCatalogSpec(
      source,
      values({
        region: {
          ...EMPTY_REGION,
          type: 'cone',
          ra: '40',
          dec: '10',
          radiusArcsec: '3600'
        },
        columns: 'id, ra, dec, mag',
        setup: 'above'
      }),
      'key-1'
    );
    expect(spec).toEqual({
      name: 'process over synthetic',
      kind: 'catalog',
      source: {
        notebookPath: 'work/a.ipynb',
        kernelName: 'python3',
        catalog: {
          path: 'catalogs/synthetic',
          region: { type: 'cone', ra: 40, dec: 10, radiusArcsec: 3600 },
          columns: ['id', 'ra', 'dec', 'mag'],
          function: { name: 'process', source: PROCESS },
          setupSource: 'import numpy as np\n\nLIMIT = 21'
        }
      },
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
      backend: 'local',
      account: 'alice',
      idempotencyKey: 'key-1'
    });
  });

  it('leaves out what was not chosen', () => {
    const spec = buildCatalogSpec(source, values(), 'k');
    expect(spec.source.catalog).toEqual({
      path: 'catalogs/synthetic',
      function: { name: 'process', source: PROCESS }
    });
  });

  it('refuses with a sentence per problem', () => {
    expect(() =>
      buildCatalogSpec(
        source,
        values({
          name: '',
          functionName: 'other',
          catalogPath: '',
          region: { ...EMPTY_REGION, type: 'box', raMin: '1' },
          cpus: 0
        }),
        'k'
      )
    ).toThrow(
      [
        'Give the job a name.',
        'CPUs must be a whole number of at least 1.',
        'The cell does not define "other"; choose one of: process.',
        'Give the catalog folder (a HATS catalog), e.g. catalogs/synthetic.',
        'Box RA max must be a number, e.g. 40.5.',
        'Box Dec min must be a number, e.g. 40.5.',
        'Box Dec max must be a number, e.g. 40.5.'
      ].join('\n')
    );
  });
});

describe('the plan panel', () => {
  beforeEach(() => actEnvironment(true));

  it('says what the run touches and costs', () => {
    expect(planLine(makePlan())).toBe(
      '4 of 10 partitions · 1,234 rows in those partitions · 56.0 KiB · est. <0.01 core-hours'
    );
  });

  it('shows the plan, the quota message, or the reason nothing can run', () => {
    const host = document.createElement('div');
    const root = createRoot(host);
    React.act(() =>
      root.render(<PlanPanel state={{ status: 'ok', plan: makePlan() }} />)
    );
    expect(host.querySelector('.jp-Batch-PlanLine')!.textContent).toBe(
      '4 of 10 partitions · 1,234 rows in those partitions · 56.0 KiB · est. <0.01 core-hours'
    );
    expect(host.querySelector('.jp-Batch-PlanQuota')!.textContent).toBe(
      'Fits: est. 0.002 of 18.5 core-hours left.'
    );
    expect(host.querySelector('.-mod-warn')).toBeNull();

    const over = makePlan({
      fits: false,
      message: 'Needs est. 30 core-hours; 18.5 are left.'
    });
    React.act(() =>
      root.render(<PlanPanel state={{ status: 'ok', plan: over }} />)
    );
    expect(host.querySelector('.jp-Batch-Plan.-mod-warn')).not.toBeNull();
    expect(planBlocksSubmit({ status: 'ok', plan: over })).toBe(
      'Submit is disabled: Needs est. 30 core-hours; 18.5 are left.'
    );
    expect(planBlocksSubmit({ status: 'ok', plan: makePlan() })).toBeNull();

    const error =
      'catalogs/x is not a HATS catalog: it has no hats.properties.';
    React.act(() =>
      root.render(<PlanPanel state={{ status: 'error', message: error }} />)
    );
    expect(host.textContent).toBe(error);
    React.act(() => root.unmount());
  });
});

describe('CatalogDialog', () => {
  beforeEach(() => actEnvironment(false));

  it('plans as the fields change, blocks Submit over quota and submits the spec', async () => {
    let fits = false;
    const planBodies: Batch.IPlanRequest[] = [];
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()))
      .on(`GET ${BASE}/backends`, {
        backends: [{ name: 'local', label: 'This server', default: true }]
      })
      .on(`POST ${BASE}/catalogs/plan`, async (request: Request) => {
        const body = await request.json();
        planBodies.push(body);
        if (body.columns?.includes('nope')) {
          return json(400, {
            error: 'Unknown column "nope"; the catalog has id, ra, dec, mag.',
            code: 'bad_columns'
          });
        }
        return json(
          200,
          makePlan(
            fits ? {} : { fits: false, message: 'Needs 30; 18.5 are left.' }
          )
        );
      })
      .on(`POST ${BASE}/jobs`, () =>
        json(201, makeJob({ id: 'cat', kind: 'catalog', state: 'pending' }))
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);
    const dialog = new CatalogDialog({
      model,
      source,
      initial: values({ backend: '', account: '' }),
      preferredBackend: ''
    });
    const result = dialog.launch();
    // Past a render, the plan's debounce and the answer.
    const settle = async () => {
      await flush();
      await new Promise(resolve => setTimeout(resolve, PLAN_DEBOUNCE_MS * 2));
      await flush();
    };
    await settle();
    const body = document.querySelector('.jp-Batch-CatalogDialog')!;
    const accept = dialog.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    )!;
    expect(
      body.querySelector<HTMLSelectElement>('select[name="function"]')!.value
    ).toBe('process');
    expect(body.querySelector('.jp-Batch-Plan')!.textContent).toContain(
      'Needs 30; 18.5 are left.'
    );
    expect(accept.disabled).toBe(true);

    type(body.querySelector('input[name="columns"]')!, 'id, nope');
    await settle();
    expect(body.querySelector('.jp-Batch-Plan')!.textContent).toBe(
      'Unknown column "nope"; the catalog has id, ra, dec, mag.'
    );

    fits = true;
    type(body.querySelector('input[name="columns"]')!, 'id, ra');
    choose(body.querySelector('select[name="regionType"]')!, 'cone');
    await flush();
    type(body.querySelector('input[name="ra"]')!, '40');
    type(body.querySelector('input[name="dec"]')!, '10');
    type(body.querySelector('input[name="radiusArcsec"]')!, '3600');
    await settle();
    expect(body.querySelector('.jp-Batch-PlanLine')!.textContent).toBe(
      '4 of 10 partitions · 1,234 rows in those partitions · 56.0 KiB · est. <0.01 core-hours'
    );
    expect(accept.disabled).toBe(false);
    // The plan's columns become checkboxes that edit the text.
    body.querySelector<HTMLInputElement>('input[data-column="mag"]')!.click();
    await settle();
    expect(
      body.querySelector<HTMLInputElement>('input[name="columns"]')!.value
    ).toBe('id, ra, mag');

    dialog.resolve(1);
    const { button } = await result;
    expect(button.accept).toBe(true);
    expect(dialog.job?.id).toBe('cat');
    expect(planBodies[planBodies.length - 1]).toEqual({
      path: 'catalogs/synthetic',
      region: { type: 'cone', ra: 40, dec: 10, radiusArcsec: 3600 },
      columns: ['id', 'ra', 'mag'],
      cpus: 1
    });
    const post = fake.requests.find(r => r.url.endsWith('/api/jobs'))!;
    expect(await post.json()).toMatchObject({
      kind: 'catalog',
      backend: 'local',
      account: 'alice',
      source: {
        catalog: {
          path: 'catalogs/synthetic',
          columns: ['id', 'ra', 'mag'],
          function: { name: 'process' }
        }
      }
    });
    model.dispose();
  });
});

function arrowFile(): Uint8Array {
  const table = tableFromArrays({
    id: new Int32Array([7, 8, 9]),
    ra: new Float64Array([40.123456789, 40.5, 39.75]),
    flux2: new Float64Array([0.000012345, 2.5, 1234567890123.5]),
    band: ['g', 'r', 'i']
  });
  return tableToIPC(table, 'file');
}

describe('the preview table', () => {
  beforeEach(() => actEnvironment(true));

  it('formats numbers compactly', () => {
    expect(formatCell(40.123456789)).toBe('40.1235');
    expect(formatCell(3)).toBe('3');
    expect(formatCell(BigInt(12))).toBe('12');
    expect(formatCell(0.000012345)).toBe('1.234e-5');
    expect(formatCell(null)).toBe('');
  });

  it('reads an Arrow IPC file into headers and rows', () => {
    const preview = readPreview(arrowFile());
    expect(preview.columns).toEqual(['id', 'ra', 'flux2', 'band']);
    expect(preview.rows).toEqual([
      ['7', '40.1235', '1.234e-5', 'g'],
      ['8', '40.5', '2.5', 'r'],
      ['9', '39.75', '1.235e+12', 'i']
    ]);
    expect(preview.numeric).toEqual([true, true, true, false]);
    expect(readPreview(arrowFile(), 2).rows).toHaveLength(2);

    const host = document.createElement('div');
    const root = createRoot(host);
    React.act(() => root.render(<PreviewTable preview={preview} />));
    const headers = [...host.querySelectorAll('th')].map(th => th.textContent);
    expect(headers).toEqual(['id', 'ra', 'flux2', 'band']);
    expect(host.querySelectorAll('tbody tr')).toHaveLength(3);
    expect(host.querySelector('td.-mod-number')!.textContent).toBe('7');
    React.act(() => root.unmount());
  });
});

describe('a catalog job in the sidebar', () => {
  beforeEach(() => actEnvironment(false));

  it('shows partition progress, the failed partition with its traceback, the preview and the dashboard', async () => {
    const job = makeJob({
      kind: 'catalog',
      state: 'failed',
      endedAt: '2026-01-01T10:01:00.000Z',
      outputNotebook: null,
      progress: { total: 4, done: 3, failed: 1 },
      stateReason:
        'partition Norder=3 Npix=425 failed: ValueError: bad (1 of 4 partitions failed); the result holds the other 3',
      dashboardUrl: 'http://gateway/clusters/abc/status'
    });
    const follower = new CatalogRunFollower({
      getPartitions: jest.fn(async () => [
        {
          order: 3,
          pixel: 425,
          state: 'failed' as const,
          rows: null,
          seconds: 0.1,
          error: {
            ename: 'ValueError',
            evalue: 'bad',
            traceback: 'Traceback (most recent call last):\nValueError: bad'
          }
        },
        {
          order: 2,
          pixel: 10,
          state: 'done' as const,
          rows: 100,
          seconds: 0.2,
          error: null
        }
      ]),
      getPreview: jest.fn(async () => arrowFile().slice().buffer)
    });
    follower.follow(job);
    const host = document.createElement('div');
    const root = createRoot(host);
    root.render(
      <JobDetails
        job={job}
        log={null}
        details={null}
        now={Date.now()}
        provenanceUrl="#"
        onCancel={() => undefined}
        onRelease={() => undefined}
        onOpenPath={() => undefined}
        onClose={() => undefined}
        catalogRun={follower}
      />
    );
    await flush();
    expect(host.querySelector('.jp-Batch-Progress')!.textContent).toBe(
      '3 of 4 partitions done, 1 failed'
    );
    const failed = host.querySelectorAll('.jp-Batch-FailedPartition');
    expect(failed).toHaveLength(1);
    expect(failed[0].textContent).toContain(
      'Norder=3 Npix=425: ValueError: bad'
    );
    expect(
      failed[0].querySelector('.jp-Batch-Traceback')!.textContent
    ).toContain('Traceback (most recent call last)');
    expect(host.querySelectorAll('.jp-Batch-Preview tbody tr')).toHaveLength(3);
    const link = host.querySelector<HTMLAnchorElement>(
      '.jp-Batch-DashboardLink'
    )!;
    expect(link.textContent).toBe('Dask dashboard');
    expect(link.href).toBe('http://gateway/clusters/abc/status');
    root.unmount();
  });

  it('says why there is no preview rather than waiting', async () => {
    const host = document.createElement('div');
    const root = createRoot(host);
    const job = makeJob({ kind: 'catalog', state: 'cancelled' });
    const follower = new CatalogRunFollower({
      getPartitions: async () => [],
      getPreview: async () => null
    });
    follower.follow(job);
    root.render(<CatalogRun job={job} run={follower} />);
    await flush();
    expect(host.textContent).toContain('This run left no result to preview.');
    root.unmount();
  });
});
