import * as React from 'react';
import { createRoot } from 'react-dom/client';

import { buildCatalogSpec, EMPTY_REGION } from '../catalog';
import { editDialog } from '../editAndRun';
import { BatchModel } from '../model';
import { buildPipelineSpec } from '../pipeline';
import { initialPipelineValues } from '../pipelineCommands';
import {
  catalogPrefill,
  formatSweep,
  pipelinePrefill,
  submitPrefill
} from '../prefill';
import { buildJobSpec, parseParameters } from '../spec';
import { Batch, DEFAULT_SETTINGS } from '../tokens';
import { loadTrans } from '../translation';
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
const defaults = initialValues('', DEFAULT_SETTINGS);

const cellsJob: Batch.IJobSpec = {
  name: 'fit residuals',
  kind: 'cells',
  source: {
    notebookPath: 'work/analysis.ipynb',
    kernelName: 'python3',
    cells: [
      { id: 's1', role: 'setup', source: 'import math' },
      { id: 's2', role: 'setup', source: 'k = 2' },
      { id: 'm1', role: 'main', source: 'print(math.sqrt(k) * threshold)' }
    ]
  },
  parameters: {
    threshold: 0.75,
    band: 'r',
    flags: [1, 'two', null, true],
    opts: { deep: { a: 1.5 } }
  },
  sweep: [
    { band: 'g', seed: 1 },
    { band: 'g', seed: 2 },
    { band: 'r', seed: 1 },
    { band: 'r', seed: 2 }
  ],
  resources: { cpus: 2, memoryMiB: 3000, walltimeSeconds: 5400 },
  backend: 'htcondor',
  account: 'g_dp02'
};

/** The spec the dialog builds from the prefilled values, as submitted unchanged. */
const rebuilt = (spec: Batch.IJobSpec, backendType?: Batch.BackendType) => {
  const { source, values } = submitPrefill(spec, defaults);
  const { idempotencyKey, ...again } = buildJobSpec(
    source,
    values,
    'new-key',
    backendType
  );
  expect(idempotencyKey).toBe('new-key');
  return again;
};

describe('Edit and run: the dialog filled in from a job record', () => {
  it('gives a cells job its name, parameters, sweep, resources, backend, account and setup cells back', () => {
    const { source, values, notes } = submitPrefill(cellsJob, defaults);
    expect(values).toMatchObject({
      name: 'fit residuals',
      cpus: 2,
      memoryMiB: 3000,
      walltimeMinutes: 90,
      backend: 'htcondor',
      account: 'g_dp02',
      setup: 'chosen',
      chosenSetupIds: ['s1', 's2'],
      sweep: 'band = ["g","r"]\nseed = [1,2]'
    });
    expect(parseParameters(values.parameters).parameters).toEqual(
      cellsJob.parameters
    );
    expect(source.main!.map(c => c.source)).toEqual([
      'print(math.sqrt(k) * threshold)'
    ]);
    expect(notes).toEqual([]);
    // submitted unchanged, it is the same job spec again
    expect(rebuilt(cellsJob)).toEqual(cellsJob);
  });

  it('rebuilds a notebook job and a script job (with its arguments) unchanged', () => {
    const notebook: Batch.IJobSpec = {
      name: 'whole',
      kind: 'notebook',
      source: {
        notebookPath: 'Demo.ipynb',
        notebook: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }
      },
      parameters: {},
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
      backend: 'local',
      account: 'alice'
    };
    expect(rebuilt(notebook)).toEqual(notebook);
    const script: Batch.IJobSpec = {
      name: 'a script',
      kind: 'script',
      source: {
        notebookPath: 'work/fit.py',
        script: { content: 'print(1)\n', args: ['--band', 'r'] }
      },
      parameters: { threshold: 3 },
      resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 300 },
      backend: 'local',
      account: 'alice'
    };
    expect(rebuilt(script)).toEqual(script);
  });

  it('keeps Dask worker settings on a dask-gateway backend', () => {
    const dask: Batch.IJobSpec = {
      ...cellsJob,
      sweep: undefined,
      backend: 'gateway',
      resources: {
        cpus: 1,
        memoryMiB: 2048,
        walltimeSeconds: 600,
        adaptiveWorkers: { minimum: 1, maximum: 6 }
      }
    };
    delete dask.sweep;
    expect(submitPrefill(dask, defaults).values).toMatchObject({
      workersMode: 'adaptive',
      minWorkers: 1,
      maxWorkers: 6
    });
    expect(rebuilt(dask, 'dask-gateway')).toEqual(dask);
  });

  it('says so when a sweep is not lists the Sweep box can show', () => {
    expect(formatSweep([{ a: 1 }, { a: 2, b: 3 }])).toBeNull();
    expect(formatSweep([{ a: 1 }, { a: 1 }])).toBeNull();
    const sweep: Record<string, Batch.ParameterValue>[] = [
      { band: 'g' },
      { seed: 1 }
    ];
    const odd: Batch.IJobSpec = { ...cellsJob, sweep };
    const { values, notes } = submitPrefill(odd, defaults);
    expect(values.sweep).toBe('');
    expect(notes).toEqual([
      'Its sweep is not a set of lists the Sweep box can show; it was left out.'
    ]);
  });

  it.each<Batch.Region | undefined>([
    undefined,
    { type: 'cone', ra: 40.5, dec: -10, radiusArcsec: 3600 },
    { type: 'box', ra: [10, 20], dec: [-5, 5] },
    {
      type: 'polygon',
      vertices: [
        [1, 2],
        [3, 4],
        [5, 0.5]
      ]
    }
  ])('rebuilds a catalog run over region %j unchanged', region => {
    const spec: Batch.IJobSpec = {
      name: 'sizes',
      kind: 'catalog',
      source: {
        notebookPath: 'work/cat.ipynb',
        catalog: {
          path: 'catalogs/synthetic',
          function: {
            name: 'process',
            source: 'def process(df):\n    return df'
          },
          setupSource: 'import numpy as np\n\nk = 2',
          columns: ['id', 'ra', 'dec'],
          ...(region ? { region } : {})
        }
      },
      resources: { cpus: 2, memoryMiB: 2048, walltimeSeconds: 600 },
      backend: 'local',
      account: 'alice'
    };
    const { source, values } = catalogPrefill(spec, {
      ...defaults,
      functionName: '',
      catalogPath: '',
      region: EMPTY_REGION,
      columns: ''
    });
    const { idempotencyKey: _key, ...again } = buildCatalogSpec(
      source,
      values,
      'k'
    );
    expect(again).toEqual(spec);
  });

  it('rebuilds a pipeline run without its plan: a new one is made', () => {
    const spec: Batch.IJobSpec = {
      name: 'add',
      kind: 'pipeline',
      source: {
        notebookPath: 'pipelines/add.yaml',
        pipeline: {
          file: 'pipelines/add.yaml',
          butlerRepo: 'butler-repo',
          inputCollections: ['demo/raw', 'demo/calib'],
          outputCollection: 'u/alice/add-2',
          dataQuery: "instrument = 'X'",
          labels: ['addA', 'addB'],
          configOverrides: [{ label: 'addA', field: 'addend', value: '100' }],
          configFiles: [{ label: 'addB', path: 'configs/addB.py' }]
        }
      },
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 1800 },
      backend: 'local',
      account: 'alice'
    };
    const { source, values } = pipelinePrefill(
      spec,
      initialPipelineValues(null, [], DEFAULT_SETTINGS)
    );
    const { idempotencyKey: _key, ...again } = buildPipelineSpec(
      source,
      values,
      'k',
      null
    );
    expect(again).toEqual(spec);
  });

  it('opens the submit dialog titled for the job, its fields filled in, and submits a new job', async () => {
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()))
      .on(`GET ${BASE}/backends`, {
        backends: [
          { name: 'local', label: 'This server', default: true },
          { name: 'htcondor', label: 'HTCondor pool', default: false }
        ]
      })
      .on(`GET ${BASE}/jobs/old/provenance`, () =>
        json(200, { spec: { ...cellsJob, idempotencyKey: 'first-key' } })
      )
      .on(`POST ${BASE}/jobs`, () =>
        json(201, makeJob({ id: 'new', name: 'fit residuals v2' }))
      );
    FakeEventSource.instances = [];
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);
    const spec = await model.recordedSpec('old');
    expect(spec.idempotencyKey).toBeUndefined();
    const dialog = editDialog(model, spec, DEFAULT_SETTINGS, loadTrans());
    const result = dialog.launch();
    await flush();
    expect(document.querySelector('.jp-Dialog-header')!.textContent).toBe(
      'Edit and run “fit residuals”'
    );
    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    const field = <T extends Element>(selector: string) =>
      body.querySelector<T & Element>(selector)!;
    expect(field<HTMLInputElement>('input[name="name"]').value).toBe(
      'fit residuals'
    );
    expect(field<HTMLTextAreaElement>('textarea[name="sweep"]').value).toBe(
      'band = ["g","r"]\nseed = [1,2]'
    );
    expect(field<HTMLSelectElement>('select[name="backend"]').value).toBe(
      'htcondor'
    );
    expect(field<HTMLSelectElement>('select[name="account"]').value).toBe(
      'g_dp02'
    );
    expect(field<HTMLInputElement>('input[name="cpus"]').value).toBe('2');
    const proto = Object.getPrototypeOf(field('input[name="name"]'));
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(
      field('input[name="name"]'),
      'fit residuals v2'
    );
    field('input[name="name"]').dispatchEvent(
      new Event('input', { bubbles: true })
    );
    await flush();
    dialog.resolve(1);
    const { button } = await result;
    expect(button.accept).toBe(true);
    const post = fake.requests.find(r => r.method === 'POST')!;
    const sent = (await post.json()) as Batch.IJobSpec;
    expect(sent.idempotencyKey).not.toBe('first-key');
    const { idempotencyKey: _k, ...rest } = sent;
    expect(rest).toEqual({ ...cellsJob, name: 'fit residuals v2' });
    model.dispose();
  });

  it('offers "Edit and run" beside "Run again" on an ended job', () => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = true;
    const host = document.createElement('div');
    document.body.appendChild(host);
    const root = createRoot(host);
    const asked: string[] = [];
    const details = (job: Batch.IJob) => (
      <JobDetails
        job={job}
        log={null}
        details={null}
        now={Date.now()}
        provenanceUrl=""
        onCancel={() => undefined}
        onRelease={() => undefined}
        onRerun={() => undefined}
        onEditRerun={j => asked.push(j.id)}
        onOpenPath={() => undefined}
        onClose={() => undefined}
      />
    );
    React.act(() => root.render(details(makeJob({ state: 'running' }))));
    expect(host.querySelector('button.jp-Batch-EditRerun')).toBeNull();
    React.act(() =>
      root.render(details(makeJob({ id: 'done', state: 'succeeded' })))
    );
    const button = host.querySelector<HTMLButtonElement>(
      'button.jp-Batch-EditRerun'
    )!;
    expect(button.textContent).toBe('Edit and run');
    React.act(() => button.click());
    expect(asked).toEqual(['done']);
    React.act(() => root.unmount());
    host.remove();
  });
});
