import { defaultOutputCollection, JobSpec, outputRunName } from '../src';

/** One valid and several invalid examples per kind module; each invalid one names the sentence a person reads. */
const base = { name: 'fit', backend: 'local' };
const cells = { ...base, kind: 'cells', source: { notebookPath: 'a.ipynb', cells: [{ id: 'm', role: 'main', source: 'x = 1' }] } };
const notebook = { ...base, kind: 'notebook', source: { notebookPath: 'a.ipynb', notebook: { cells: [], nbformat: 4 } } };
const script = { ...base, kind: 'script', source: { notebookPath: 'run.py', script: { content: 'print(1)', args: ['--fast'] } } };
const catalog = {
  ...base,
  kind: 'catalog',
  source: {
    notebookPath: 'a.ipynb',
    catalog: {
      path: 'catalogs/synthetic',
      region: { type: 'cone', ra: 10, dec: 5, radiusArcsec: 60 },
      function: { name: 'f', source: 'def f(df):\n    return df' },
    },
  },
};

const pipeline = {
  ...base,
  kind: 'pipeline',
  source: {
    notebookPath: 'pipelines/add.yaml',
    pipeline: {
      file: 'pipelines/add.yaml',
      butlerRepo: 'repo',
      inputCollections: ['demo/raw'],
      dataQuery: "instrument='DEMO' AND detector IN (0, 1)",
      configOverrides: [{ label: 'addA', field: 'addend', value: '100' }],
    },
  },
};
const withPipeline = (fields: Record<string, unknown>) => ({ ...pipeline, source: { ...pipeline.source, pipeline: fields } });

const messages = (input: unknown): string[] => {
  const result = JobSpec.safeParse(input);
  return result.success ? [] : result.error.issues.map(i => `${i.path.join('.')}: ${i.message}`);
};

describe.each([
  [
    'cells',
    cells,
    [
      [{ ...cells, source: { notebookPath: 'a.ipynb' } }, 'source.cells: a "cells" job needs at least one main cell'],
      [
        { ...cells, source: { notebookPath: 'a.ipynb', cells: [{ id: 's', role: 'setup', source: '' }] } },
        'source.cells: a "cells" job needs at least one main cell',
      ],
      [{ ...cells, source: { ...cells.source, notebookPath: '../x.ipynb' } }, 'source.notebookPath: must not contain ".."'],
    ],
  ],
  [
    'notebook',
    notebook,
    [
      [{ ...notebook, source: { notebookPath: 'a.ipynb' } }, 'source.notebook: a "notebook" job needs the notebook JSON'],
      [
        { ...notebook, source: { notebookPath: 'a.ipynb', notebook: { nbformat: 4 } } },
        'source.notebook.cells: the notebook must be nbformat v4 JSON with a "cells" list',
      ],
    ],
  ],
  [
    'script',
    script,
    [
      [
        { ...script, source: { notebookPath: 'run.py' } },
        'source.script: a "script" job needs source.script.content (the Python file\'s text)',
      ],
    ],
  ],
  [
    'catalog',
    catalog,
    [
      [{ ...catalog, source: { notebookPath: 'a.ipynb' } }, 'source.catalog: a "catalog" job needs source.catalog (path, function)'],
      [
        { ...catalog, source: { notebookPath: 'a.ipynb', catalog: { path: 'c', function: { name: 'f', source: 'def g(df): pass' } } } },
        'source.catalog.function: the function source does not define "def f(df): ..."',
      ],
      [{ ...catalog, sweep: [{ a: 1 }] }, 'sweep: a catalog run cannot also be a sweep'],
      [
        {
          ...catalog,
          source: {
            notebookPath: 'a.ipynb',
            catalog: { ...catalog.source.catalog, region: { type: 'cone', ra: 400, dec: 0, radiusArcsec: 1 } },
          },
        },
        'source.catalog.region.ra: ra must be between 0 and 360 degrees; got 400',
      ],
    ],
  ],
  [
    'pipeline',
    pipeline,
    [
      [
        { ...pipeline, source: { notebookPath: 'p.yaml' } },
        'source.pipeline: a "pipeline" job needs source.pipeline (butlerRepo, inputCollections, and file or standard)',
      ],
      [
        withPipeline({ ...pipeline.source.pipeline, standard: 'demo' }),
        'source.pipeline: give either a pipeline file or the name of a standard pipeline, not both',
      ],
      [
        withPipeline({ ...pipeline.source.pipeline, inputCollections: [] }),
        'source.pipeline.inputCollections: give at least one input collection',
      ],
      [
        withPipeline({ ...pipeline.source.pipeline, inputCollections: ['a b'] }),
        'source.pipeline.inputCollections.0: must be a collection name (no spaces or commas)',
      ],
      [
        withPipeline({ ...pipeline.source.pipeline, configOverrides: [{ label: 'addA', field: 'add end', value: '1' }] }),
        'source.pipeline.configOverrides.0.field: must be a config field such as "addend" or "connections.in_tmpl"',
      ],
      [withPipeline({ ...pipeline.source.pipeline, butlerRepo: '../repo' }), 'source.pipeline.butlerRepo: must not contain ".."'],
      [{ ...pipeline, sweep: [{ a: 1 }] }, 'sweep: a pipeline run cannot also be a sweep'],
    ],
  ],
] as const)('kind %s', (_kind, valid, invalid) => {
  it('accepts a valid spec and fills in the defaults', () => {
    const spec = JobSpec.parse(valid);
    expect(spec).toMatchObject({ kind: valid.kind, parameters: {}, resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 } });
  });
  it.each(invalid.map(([input, message]) => [message, input]))('refuses with "%s"', (message, input) => {
    expect(messages(input)).toContain(message);
  });
});

describe('rules every kind shares', () => {
  it.each([
    [
      { ...cells, parameters: { 'my-param': 1 } },
      'parameters.my-param: parameter name "my-param" is not a Python identifier (letters, digits, _; not a keyword)',
    ],
    [
      { ...notebook, sweep: [{ a: 1 }, { class: 2 }] },
      'sweep.1.class: sweep item 2: parameter name "class" is not a Python identifier (letters, digits, _; not a keyword)',
    ],
    [{ ...script, outputs: ['../x'] }, 'outputs: output globs must stay inside the output folder'],
    [{ ...cells, kind: 'shell' }, 'kind: kind must be one of "cells", "notebook", "script", "catalog", "pipeline"'],
  ])('refuses %#', (input, message) => {
    expect(messages(input)).toContain(message);
  });

  it('keeps the JSON a client sends: a parsed spec serialises to the same fields', () => {
    const spec = JobSpec.parse({ ...cells, parameters: { n: 3 }, sweep: [{ n: 1 }, { n: 2 }] });
    expect(spec).toEqual({
      ...cells,
      parameters: { n: 3 },
      sweep: [{ n: 1 }, { n: 2 }],
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
    });
  });
});

describe('pipeline names', () => {
  it('gives a run without an output collection "u/{user}/{name}", with spaces and commas made underscores', () => {
    expect(defaultOutputCollection('alice', 'my fit, v2')).toBe('u/alice/my_fit_v2');
    expect(defaultOutputCollection('alice', '  ')).toBe('u/alice/pipeline');
  });
  it('names the output run after the collection and the UTC time, as pipetask does', () => {
    expect(outputRunName('u/alice/fit', new Date('2026-12-02T13:04:05.678Z'))).toBe('u/alice/fit/20261202T130405Z');
  });
});
