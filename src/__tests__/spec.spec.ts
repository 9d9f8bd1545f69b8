import {
  buildJobSpec,
  defaultJobName,
  ICellInfo,
  ISubmitValues,
  MAX_SWEEP_ITEMS,
  parseParameters,
  parseSweep,
  quotaSummary,
  cellChoices,
  selectSetupCells,
  setupCandidates,
  sweepSummary
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
  const ids = (cells: ICellInfo[] | undefined) => cells?.map(c => c.id);

  it('uses the selected code cells, in notebook order, skipping markdown', () => {
    const choices = cellChoices(notebook, [4, 0, 2]);
    expect(choices.from).toBe('selection');
    expect(ids(choices.selection?.main)).toEqual(['load', 'plot']);
  });

  it('runs one selected untagged cell, not the tagged ones, and still offers them', () => {
    const choices = cellChoices(notebook, [1]);
    expect(choices.from).toBe('selection');
    expect(ids(choices.selection?.main)).toEqual(['imports']);
    expect(ids(choices.tags?.main)).toEqual(['fit', 'more']);
    expect(ids(choices.tags?.setupCandidates)).toEqual(['imports', 'load']);
  });

  it('uses the cells tagged "batch" only when no code cell is selected', () => {
    const choices = cellChoices(notebook, [0]);
    expect(choices.selection).toBeNull();
    expect(choices.from).toBe('tags');
    expect(ids(choices.tags?.main)).toEqual(['fit', 'more']);
  });

  it('offers nothing when no code cell is selected and nothing is tagged', () => {
    const untagged = notebook.map(c => ({ ...c, tags: [] }));
    expect(cellChoices(untagged, [0])).toEqual({
      selection: null,
      tags: null,
      from: 'selection'
    });
  });

  it('builds the job from the choice in the dialog', () => {
    const choices = cellChoices(notebook, [4]);
    const source = {
      kind: 'cells' as const,
      notebookPath: 'a.ipynb',
      main: choices.selection!.main,
      setupCandidates: choices.selection!.setupCandidates,
      cellChoices: { selection: choices.selection, tags: choices.tags }
    };
    const roles = (from: 'selection' | 'tags') =>
      buildJobSpec(source, values({ cellsFrom: from }), 'k').source.cells?.map(
        c => c.id
      );
    expect(roles('selection')).toEqual(['plot']);
    expect(roles('tags')).toEqual(['fit', 'more']);
  });

  it('offers the code cells above the first main cell as setup', () => {
    const main = cellChoices(notebook, [3, 4]).selection!.main;
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
      text: 'Uses 1 of 4 concurrent jobs, 1 of 4 cores, est. 1 core-hours of 20 left',
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

describe('parseSweep', () => {
  it('makes every combination in line order, the first line slowest', () => {
    const sweep = parseSweep(
      '# bands and thresholds\nband = ["g", "r", "i"]\n\nthreshold = [0.1, 0.5]'
    );
    expect(sweep.errors).toEqual([]);
    expect(sweep.count).toBe(6);
    expect(sweep.items).toEqual([
      { band: 'g', threshold: 0.1 },
      { band: 'g', threshold: 0.5 },
      { band: 'r', threshold: 0.1 },
      { band: 'r', threshold: 0.5 },
      { band: 'i', threshold: 0.1 },
      { band: 'i', threshold: 0.5 }
    ]);
  });

  it('keeps list values whole, and reads tuples as lists', () => {
    expect(parseSweep('shape = [[1, 2], [3, 4]]\nmode = ("a",)').items).toEqual(
      [
        { shape: [1, 2], mode: 'a' },
        { shape: [3, 4], mode: 'a' }
      ]
    );
  });

  it('names the line of a value that is not a list, or an empty one', () => {
    const sweep = parseSweep('n = [1, 2]\nband = "g"\nk = []');
    expect(sweep.items).toEqual([]);
    expect(sweep.errors).toEqual([
      'Sweep, line 2: the value of "band" must be a list of values, e.g. band = ["g", "r"].',
      'Sweep, line 3: the list of "k" is empty; give at least one value, e.g. k = ["g", "r"].'
    ]);
  });

  it('reports the parameters syntax errors as Sweep lines', () => {
    expect(parseSweep('n = [1, 2\nx').errors).toEqual([
      expect.stringMatching(/^Sweep, line 1: the value of "n" cannot be read/),
      'Sweep, line 2: expected "name = value".'
    ]);
  });

  it('refuses more than 100,000 runs and says how many the lines make', () => {
    const hundred = `[${Array.from({ length: 100 }, (_, i) => i).join(', ')}]`;
    const ok = parseSweep(
      `a = ${hundred}\nb = ${hundred}\nc = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`
    );
    expect(ok.errors).toEqual([]);
    expect(ok.count).toBe(MAX_SWEEP_ITEMS);
    const over = parseSweep(
      `a = ${hundred}\nb = ${hundred}\nc = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]`
    );
    expect(over.items).toEqual([]);
    expect(over.count).toBe(110000);
    expect(parseSweep(`a = ${hundred}\nb = [1, 2]`, false)).toEqual({
      items: [],
      count: 200,
      errors: []
    });
    expect(over.errors).toEqual([
      'Sweep: 100 × 100 × 11 = 110,000 runs; one sweep may have at most 100,000. Use fewer values or split the sweep.'
    ]);
  });

  it('says how many runs, and how they run on the backend', () => {
    expect(sweepSummary('', 2, true)).toBeNull();
    expect(sweepSummary('# later\n', 2, true)).toBeNull();
    const text = 'band = ["g", "r", "i"]\nthreshold = [0.1, 0.5]';
    expect(sweepSummary(text, 2, true)).toEqual({
      text: '→ 6 runs, all at once: 6 × 2 CPUs = 12 cores',
      ok: true
    });
    expect(sweepSummary(text, 2, false)).toEqual({
      text: '→ 6 runs, one after another',
      ok: true
    });
    expect(sweepSummary('n = [1]', 1, true)?.text).toBe(
      '→ 1 run, all at once: 1 × 1 CPU = 1 cores'
    );
    expect(sweepSummary('n = 1', 1, true)?.ok).toBe(false);
  });
});

describe('buildJobSpec with a sweep', () => {
  const source = {
    kind: 'cells' as const,
    notebookPath: 'a.ipynb',
    main: [notebook[3]],
    setupCandidates: []
  };

  it('adds the sweep items beside the parameters', () => {
    const spec = buildJobSpec(
      source,
      values({ parameters: 'band = "u"\nx = 1', sweep: 'band = ["g", "r"]' }),
      'k'
    );
    expect(spec.parameters).toEqual({ band: 'u', x: 1 });
    expect(spec.sweep).toEqual([{ band: 'g' }, { band: 'r' }]);
  });

  it('leaves sweep out when the textarea is empty or only comments', () => {
    expect('sweep' in buildJobSpec(source, values({ sweep: '' }), 'k')).toBe(
      false
    );
    expect(
      'sweep' in buildJobSpec(source, values({ sweep: ' \n# n = [1]' }), 'k')
    ).toBe(false);
    expect('sweep' in buildJobSpec(source, values(), 'k')).toBe(false);
  });

  it('refuses a sweep with a bad line, after the other problems', () => {
    expect(() =>
      buildJobSpec(source, values({ cpus: 0, sweep: 'n = 3' }), 'k')
    ).toThrow(
      /CPUs must be .*\nSweep, line 1: the value of "n" must be a list of values, e\.g\. n = \["g", "r"\]\./s
    );
  });
});

describe('quotaSummary for sweeps', () => {
  const quota: Batch.IQuotaStatus = {
    user: 'alice',
    accounts: ['alice'],
    windowHours: 24,
    limits: {
      concurrentJobs: 4,
      concurrentCores: 16,
      coreHours: 20,
      memoryPerJobMiB: 8192
    },
    usage: { concurrentJobs: 0, concurrentCores: 0, coreHours: 0 }
  };
  const request = { cpus: 2, memoryMiB: 2048, walltimeMinutes: 60 };

  it('counts every run side by side on a parallel backend', () => {
    expect(
      quotaSummary(quota, { ...request, runs: 6, parallel: true })
    ).toEqual({
      text: 'Uses 1 of 4 concurrent jobs, 12 of 16 cores, est. 12 core-hours of 20 left',
      fits: true
    });
    const big = quotaSummary(quota, { ...request, runs: 9, parallel: true });
    expect(big.fits).toBe(false);
    expect(big.text).toMatch(/18 of 16 cores.*over the limit for cores$/);
  });

  it('counts the cores of one run on a backend that runs them in turn', () => {
    const local = quotaSummary(quota, { ...request, runs: 6, parallel: false });
    expect(local).toEqual({
      text: 'Uses 1 of 4 concurrent jobs, 2 of 16 cores, est. 12 core-hours of 20 left',
      fits: true
    });
    const long = quotaSummary(quota, { ...request, runs: 11, parallel: false });
    expect(long.text).toMatch(
      /est\. 22 core-hours of 20 left — over the limit for core-hours$/
    );
  });
});
