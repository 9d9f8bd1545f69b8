import {
  buildJobSpec,
  defaultJobName,
  ICellInfo,
  ISubmitValues,
  parseParameters,
  quotaSummary,
  selectMainCells,
  selectSetupCells,
  setupCandidates
} from '../spec';
import { Batch } from '../tokens';

const code = (id: string, source: string, tags: string[] = []): ICellInfo => ({
  id,
  type: 'code',
  source,
  tags
});

const notebook: ICellInfo[] = [
  { id: 'md', type: 'markdown', source: '# Title', tags: [] },
  code('imports', 'import numpy as np\nimport os'),
  code('load', 'data = np.arange(10)'),
  code('fit', 'fit = data.mean()', ['batch']),
  code('plot', 'print(fit)'),
  code('more', 'print(fit * 2)', ['batch'])
];

const values = (patch: Partial<ISubmitValues> = {}): ISubmitValues => ({
  name: 'fit residuals',
  setup: 'none',
  chosenSetupIds: [],
  parameters: '',
  cpus: 2,
  memoryMiB: 4096,
  walltimeMinutes: 30,
  backend: 'local',
  account: 'alice',
  ...patch
});

describe('parseParameters', () => {
  it('reads numbers, booleans, None, quoted strings, lists, dicts and bare words', () => {
    const { parameters, errors } = parseParameters(
      [
        'threshold = 0.5',
        'count=3',
        'scale = -1e-3',
        'verbose = True',
        'dry_run = false',
        'mask = None',
        "band = 'r'",
        'label = "a \\"quoted\\" word"',
        'bands = ["g", "r", \'i\']',
        'limits = {"ra": [10, 20], \'dec\': (-5, 5.5)}',
        'region = south_pole',
        '# a comment line',
        '',
        'empty_list = []'
      ].join('\n')
    );
    expect(errors).toEqual([]);
    expect(parameters).toEqual({
      threshold: 0.5,
      count: 3,
      scale: -0.001,
      verbose: true,
      dry_run: false,
      mask: null,
      band: 'r',
      label: 'a "quoted" word',
      bands: ['g', 'r', 'i'],
      limits: { ra: [10, 20], dec: [-5, 5.5] },
      region: 'south_pole',
      empty_list: []
    });
  });

  it('reports each bad line with its number and keeps the good ones', () => {
    const { parameters, errors } = parseParameters(
      [
        'ok = 1',
        'no equals sign here',
        '2bad = 3',
        'class = 4',
        'ok = 5',
        'broken = [1, 2',
        'unterminated = "abc',
        'nothing =',
        'trailing = 1.5abc'
      ].join('\n')
    );
    expect(parameters).toEqual({ ok: 1 });
    expect(errors.map(e => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(errors[0].message).toMatch(/expected "name = value"/);
    expect(errors[1].message).toMatch(/not a Python name/);
    expect(errors[2].message).toMatch(/keyword/);
    expect(errors[3].message).toMatch(/already set on line 1/);
    expect(errors[4].message).toMatch(/"broken" cannot be read/);
    expect(errors[5].message).toMatch(/no closing "/);
    expect(errors[6].message).toMatch(/no value/);
    expect(errors[7].message).toMatch(/unexpected "abc"/);
  });
});

describe('cell selection', () => {
  it('uses the selected code cells, in notebook order, skipping markdown', () => {
    const { cells, fromTags } = selectMainCells(notebook, [4, 0, 2]);
    expect(cells.map(c => c.id)).toEqual(['load', 'plot']);
    expect(fromTags).toBe(false);
  });

  it('uses the cells tagged "batch" when one untagged cell is selected', () => {
    const { cells, fromTags } = selectMainCells(notebook, [1]);
    expect(cells.map(c => c.id)).toEqual(['fit', 'more']);
    expect(fromTags).toBe(true);
  });

  it('keeps a single selected cell that is itself tagged', () => {
    expect(selectMainCells(notebook, [5]).cells.map(c => c.id)).toEqual([
      'more'
    ]);
  });

  it('keeps a single selected cell when nothing is tagged', () => {
    const untagged = notebook.map(c => ({ ...c, tags: [] }));
    expect(selectMainCells(untagged, [4]).cells.map(c => c.id)).toEqual([
      'plot'
    ]);
  });

  it('offers the code cells above the first main cell as setup', () => {
    const main = selectMainCells(notebook, [3, 4]).cells;
    const candidates = setupCandidates(notebook, main);
    expect(candidates.map(c => c.id)).toEqual(['imports', 'load']);
    expect(selectSetupCells(candidates, 'none', ['load'])).toEqual([]);
    expect(selectSetupCells(candidates, 'above', []).map(c => c.id)).toEqual([
      'imports',
      'load'
    ]);
    expect(
      selectSetupCells(candidates, 'chosen', ['load', 'unknown']).map(c => c.id)
    ).toEqual(['load']);
  });
});

describe('buildJobSpec', () => {
  const main = [notebook[3]];
  const candidates = setupCandidates(notebook, main);

  it('builds a cells spec with setup first, parameters and resources', () => {
    const spec = buildJobSpec(
      {
        kind: 'cells',
        notebookPath: 'work/analysis.ipynb',
        kernelName: 'python3',
        main,
        setupCandidates: candidates
      },
      values({
        setup: 'chosen',
        chosenSetupIds: ['imports'],
        parameters: 'x = 2'
      }),
      'key-1'
    );
    expect(spec).toEqual<Batch.IJobSpec>({
      name: 'fit residuals',
      kind: 'cells',
      source: {
        notebookPath: 'work/analysis.ipynb',
        kernelName: 'python3',
        cells: [
          {
            id: 'imports',
            role: 'setup',
            source: 'import numpy as np\nimport os'
          },
          { id: 'fit', role: 'main', source: 'fit = data.mean()' }
        ]
      },
      parameters: { x: 2 },
      resources: { cpus: 2, memoryMiB: 4096, walltimeSeconds: 1800 },
      backend: 'local',
      account: 'alice',
      idempotencyKey: 'key-1'
    });
  });

  it('builds a notebook spec carrying the notebook JSON', () => {
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };
    const spec = buildJobSpec(
      { kind: 'notebook', notebookPath: 'a.ipynb', notebook: nb },
      values(),
      'key-2'
    );
    expect(spec.kind).toBe('notebook');
    expect(spec.source.notebook).toBe(nb);
    expect(spec.source.cells).toBeUndefined();
  });

  it('refuses with every problem, parameters by line', () => {
    expect(() =>
      buildJobSpec(
        { kind: 'cells', notebookPath: 'a.ipynb', main: [] },
        values({ name: ' ', cpus: 0, parameters: 'a = 1\nb' }),
        'k'
      )
    ).toThrow(
      /Give the job a name\.\nCPUs must be a whole number.*\nParameters, line 2: expected "name = value"\.\nSelect at least one code cell/s
    );
  });
});

describe('defaultJobName and quotaSummary', () => {
  it('names a job after the notebook and what runs', () => {
    expect(defaultJobName('work/analysis.ipynb', 'notebook')).toBe('analysis');
    expect(
      defaultJobName('work/analysis.ipynb', 'cells', [notebook[3], notebook[5]])
    ).toBe('analysis: fit = data.mean() (+1 cell)');
  });

  it('says what a job takes of the quota and whether it fits', () => {
    const quota: Batch.IQuotaStatus = {
      user: 'alice',
      accounts: ['alice'],
      windowHours: 24,
      limits: {
        concurrentJobs: 4,
        concurrentCores: 4,
        coreHours: 20,
        memoryPerJobMiB: 8192
      },
      usage: { concurrentJobs: 0, concurrentCores: 0, coreHours: 0 }
    };
    expect(
      quotaSummary(quota, { cpus: 1, memoryMiB: 2048, walltimeMinutes: 60 })
    ).toEqual({
      text: 'Uses 1 of 4 concurrent jobs, 1 of 4 cores, est. 1.0 core-hours of 20.0 left',
      fits: true
    });
    const tight = quotaSummary(
      {
        ...quota,
        usage: { concurrentJobs: 4, concurrentCores: 2, coreHours: 19.5 }
      },
      { cpus: 1, memoryMiB: 9000, walltimeMinutes: 60 }
    );
    expect(tight.fits).toBe(false);
    expect(tight.text).toMatch(
      /over the limit for concurrent jobs, core-hours, memory \(at most 8192 MiB a job\)/
    );
  });
});
