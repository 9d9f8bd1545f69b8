import { JobSpec } from '@user-batch/contract';
import * as React from 'react';
import { createRoot } from 'react-dom/client';

import { BatchModel } from '../model';
import {
  buildPipelineSpec,
  IPipelineValues,
  isPipelineYaml,
  parseConfigFiles,
  parseOverrides,
  pipelineDefinition,
  pipelineFileKind,
  pipelinePlanLine,
  valuesFromBpsYaml,
  valuesFromConfigFile
} from '../pipeline';
import { initialPipelineValues } from '../pipelineCommands';
import { PipelineRunFollower } from '../services/pipelineRun';
import { Batch, DEFAULT_SETTINGS } from '../tokens';
import { JobDetails } from '../widgets/jobs';
import { PipelineDialog } from '../widgets/pipeline';
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

function values(patch: Partial<IPipelineValues> = {}): IPipelineValues {
  return {
    ...initialPipelineValues('pipelines/add.yaml', [], DEFAULT_SETTINGS),
    backend: 'local',
    account: 'alice',
    ...patch
  };
}

function makePlan(
  planId: string,
  quota: Partial<Batch.IPipelinePlan['quota']> = {}
): Batch.IPipelinePlan {
  return {
    planId,
    plan: {
      outputCollection: 'u/alice/add',
      outputRun: 'u/alice/add/20261202T130405Z',
      inputCollections: ['demo/raw'],
      dataQuery: "instrument='DEMO' AND detector IN (0, 1, 2)",
      labels: [
        {
          label: 'addA',
          taskClass: 'user_batch.pipeline_demo.AddTask',
          quanta: 3
        },
        {
          label: 'addB',
          taskClass: 'user_batch.pipeline_demo.AddTask',
          quanta: 3
        }
      ],
      totalQuanta: 6,
      graphSha256: 'ab'.repeat(32),
      expandedPipeline: 'tasks: {}',
      seconds: 4.2,
      versions: { 'lsst-pipe-base': '30.2026.500' }
    },
    estimate: { coreHours: 0.0017, secondsPerQuantum: 1 },
    quota: {
      coreHoursLeft: 18.5,
      fits: true,
      message: 'Fits: est. 0.002 of 18.5 core-hours left.',
      ...quota
    }
  };
}

function actEnvironment(on: boolean): void {
  (
    globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
  ).IS_REACT_ACT_ENVIRONMENT = on;
}

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string) {
  const proto = Object.getPrototypeOf(input);
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('pipeline fields', () => {
  it('knows a pipeline YAML by its tasks: section', () => {
    expect(
      isPipelineYaml('description: demo\ntasks:\n  addA:\n    class: x.Add\n')
    ).toBe(true);
    expect(isPipelineYaml('payload:\n  tasks: 3\n')).toBe(false);
  });

  it('reads override rows, skipping blanks and comments, and names each bad line', () => {
    expect(
      parseOverrides(
        'addA:addend=100\n\n# a comment\naddB : connections.in_tmpl = "1"'
      )
    ).toEqual({
      overrides: [
        { label: 'addA', field: 'addend', value: '100' },
        { label: 'addB', field: 'connections.in_tmpl', value: '"1"' }
      ],
      errors: []
    });
    expect(parseOverrides('addA:addend=1\naddend=3').errors).toEqual([
      'Config override line 2 ("addend=3") must read label:field=value, e.g. addA:addend=100.'
    ]);
    expect(parseConfigFiles('addA:configs/a.py\naddB:../x.py').errors).toEqual([
      'Config file line 2 ("addB:../x.py") must read label:path, e.g. addA:configs/addA.py (a path inside your Jupyter folder).'
    ]);
  });

  it('says what is missing before a graph can be built', () => {
    expect(
      pipelineDefinition(values({ butlerRepo: ' ', inputCollections: '' }))
        .errors
    ).toEqual([
      'Give the butler repository, e.g. butler-repo.',
      'Give at least one input collection, e.g. demo/raw.'
    ]);
  });

  it('builds a spec the contract accepts, with the plan that runs', () => {
    const spec = buildPipelineSpec(
      { path: 'pipelines/add.yaml' },
      values({
        inputCollections: 'demo/raw, demo/calib',
        dataQuery: "instrument='DEMO' AND detector IN (0, 1, 2)",
        labels: '#addA',
        overrides: 'addA:addend=100'
      }),
      'key-1',
      'plan0123456789'
    );
    expect(JobSpec.parse(spec)).toMatchObject({
      kind: 'pipeline',
      source: {
        notebookPath: 'pipelines/add.yaml',
        pipeline: {
          file: 'pipelines/add.yaml',
          butlerRepo: 'butler-repo',
          inputCollections: ['demo/raw', 'demo/calib'],
          labels: ['addA'],
          configOverrides: [{ label: 'addA', field: 'addend', value: '100' }],
          planId: 'plan0123456789'
        }
      }
    });
  });

  it('says the plan in one line', () => {
    expect(pipelinePlanLine(makePlan('p1'))).toBe(
      '6 quanta: addA 3, addB 3 · est. <0.01 core-hours'
    );
  });
});

describe('PipelineDialog', () => {
  beforeEach(() => actEnvironment(false));

  it('builds the graph on open, blocks Submit when the fields change until built again, and submits that plan', async () => {
    const planBodies: Batch.IPipelinePlanRequest[] = [];
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()))
      .on(`GET ${BASE}/backends`, {
        backends: [{ name: 'local', label: 'This server', default: true }]
      })
      .on(`POST ${BASE}/pipelines/plan`, async (request: Request) => {
        const body = await request.json();
        planBodies.push(body);
        if (body.pipeline.dataQuery === 'detector IN (') {
          return json(400, {
            error:
              'The data query cannot be read: a parenthesis is not closed. Check the query, e.g. "detector IN (0, 1)".',
            code: 'pipeline_plan_failed'
          });
        }
        return json(200, makePlan(`plan${planBodies.length}abcdefgh`));
      })
      .on(`POST ${BASE}/jobs`, () =>
        json(201, makeJob({ id: 'pipe', kind: 'pipeline', state: 'pending' }))
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);
    const dialog = new PipelineDialog({
      model,
      source: { path: 'pipelines/add.yaml' },
      initial: values(),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    await flush();
    const body = document.querySelector('.jp-Batch-PipelineDialog')!;
    const accept = dialog.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    )!;
    expect(planBodies).toHaveLength(1);
    expect(body.querySelector('.jp-Batch-PlanLine')!.textContent).toBe(
      '6 quanta: addA 3, addB 3 · est. <0.01 core-hours'
    );
    expect(
      [...body.querySelectorAll('.jp-Batch-PipelineLabels tbody tr')].map(
        row => row.textContent
      )
    ).toEqual(['addA3', 'addB3']);
    expect(body.querySelector('.jp-Batch-PlanOutput')!.textContent).toBe(
      'Writes run u/alice/add/20261202T130405Z (in collection u/alice/add)'
    );
    expect(accept.disabled).toBe(false);

    // A bad query: the proxy's sentence, and nothing can be submitted.
    type(body.querySelector('input[name="dataQuery"]')!, 'detector IN (');
    await flush();
    expect(
      body.querySelector('.jp-Batch-Plan')!.getAttribute('data-status')
    ).toBe('stale');
    expect(accept.disabled).toBe(true);
    body.querySelector<HTMLButtonElement>('.jp-Batch-BuildGraph')!.click();
    await flush();
    await flush();
    expect(body.querySelector('.jp-Batch-Plan')!.textContent).toContain(
      'The data query cannot be read: a parenthesis is not closed.'
    );
    expect(accept.disabled).toBe(true);

    type(
      body.querySelector('input[name="dataQuery"]')!,
      "instrument='DEMO' AND detector IN (0, 1, 2)"
    );
    type(body.querySelector('textarea[name="overrides"]')!, 'addA:addend=100');
    await flush();
    body.querySelector<HTMLButtonElement>('.jp-Batch-BuildGraph')!.click();
    await flush();
    await flush();
    expect(accept.disabled).toBe(false);
    expect(planBodies[planBodies.length - 1].pipeline).toEqual({
      file: 'pipelines/add.yaml',
      butlerRepo: 'butler-repo',
      inputCollections: ['demo/raw'],
      dataQuery: "instrument='DEMO' AND detector IN (0, 1, 2)",
      configOverrides: [{ label: 'addA', field: 'addend', value: '100' }]
    });

    dialog.resolve(1);
    const { button } = await result;
    expect(button.accept).toBe(true);
    expect(dialog.job?.id).toBe('pipe');
    const post = fake.requests.find(r => r.url.endsWith('/api/jobs'))!;
    expect(await post.json()).toMatchObject({
      kind: 'pipeline',
      source: {
        pipeline: {
          planId: `plan${planBodies.length}abcdefgh`,
          configOverrides: [{ label: 'addA', field: 'addend', value: '100' }]
        }
      }
    });
    model.dispose();
  });
});

describe('a pipeline job in the sidebar', () => {
  beforeEach(() => actEnvironment(false));

  it('shows quanta per label, the failed quantum with its data ID and exception, blocked quanta and the outputs', async () => {
    const job = makeJob({
      kind: 'pipeline',
      state: 'failed',
      endedAt: '2026-01-01T10:01:00.000Z',
      outputNotebook: null,
      progress: { total: 6, done: 4, failed: 1 }
    });
    const status: Batch.IPipelineStatus = {
      plan: makePlan('p1').plan,
      progress: {
        labels: [
          { label: 'addA', quanta: 3, succeeded: 2, failed: 1, blocked: 0 },
          { label: 'addB', quanta: 3, succeeded: 2, failed: 0, blocked: 1 }
        ],
        failures: [
          {
            label: 'addA',
            dataId: { instrument: 'DEMO', detector: 1 },
            exception: 'lsst.pipe.base.RepeatableQuantumError',
            message: 'detector 1 is in failOnDetectors',
            log: 'Traceback (most recent call last):\n...'
          }
        ]
      },
      outputs: [
        { datasetType: 'add_dataset1', count: 2 },
        { datasetType: 'add_dataset2', count: 2 }
      ]
    };
    const getStatus = jest.fn(async () => status);
    const follower = new PipelineRunFollower({ getStatus });
    follower.follow(job);
    follower.follow(job); // the same progress: not read again
    expect(getStatus).toHaveBeenCalledTimes(1);
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
        pipelineRun={follower}
      />
    );
    await flush();
    expect(host.querySelector('.jp-Batch-Progress')!.textContent).toBe(
      '4 of 6 quanta done, 1 failed'
    );
    const addB = host.querySelector(
      '.jp-Batch-PipelineProgress tr[data-label="addB"]'
    )!;
    expect(addB.querySelector('[data-count="blocked"]')!.textContent).toBe('1');
    const failed = host.querySelectorAll('.jp-Batch-FailedQuantum');
    expect(failed).toHaveLength(1);
    expect(failed[0].querySelector('summary')!.textContent).toBe(
      'addA (instrument: DEMO, detector: 1): lsst.pipe.base.RepeatableQuantumError: detector 1 is in failOnDetectors'
    );
    expect(
      [...host.querySelectorAll('.jp-Batch-DatasetCounts li')].map(
        li => li.textContent
      )
    ).toEqual(['add_dataset1: 2 datasets', 'add_dataset2: 2 datasets']);
    root.unmount();
  });
});

describe('standard pipelines', () => {
  it('start the dialog from the palette with the first one, its collections and query', () => {
    const initial = initialPipelineValues(
      null,
      [
        {
          name: 'demo-add',
          description: 'The demo additions',
          pipeline: '/site/pipelines/add.yaml',
          inputCollections: ['demo/raw', 'demo/calib'],
          dataQuery: "instrument='DEMO'"
        }
      ],
      DEFAULT_SETTINGS
    );
    expect(initial).toMatchObject({
      name: 'demo-add',
      standard: 'demo-add',
      pipelineFile: '',
      inputCollections: 'demo/raw, demo/calib',
      dataQuery: "instrument='DEMO'"
    });
    expect(
      buildPipelineSpec(
        { path: '' },
        { ...initial, backend: 'local', account: 'alice' },
        'k',
        null
      ).source
    ).toMatchObject({
      notebookPath: 'demo-add',
      pipeline: { standard: 'demo-add', butlerRepo: 'butler-repo' }
    });
  });
});

describe('starting from a BPS submit file or a config override file', () => {
  it('knows each kind of file by its content', () => {
    expect(pipelineFileKind('p/add.yaml', 'tasks:\n  a: {}\n')).toBe(
      'pipeline'
    );
    expect(
      pipelineFileKind('bps/submit.yaml', 'pipelineYaml: ../add.yaml\n')
    ).toBe('bps');
    expect(
      pipelineFileKind('configs/addA.py', '# more\nconfig.addend = 100\n')
    ).toBe('config');
    expect(pipelineFileKind('fit.py', 'print(1)\n')).toBeNull();
    expect(pipelineFileKind('notes.yaml', 'a: 1\n')).toBeNull();
  });

  it('fills the fields from a BPS submit YAML, paths beside the file', () => {
    const bps = [
      'pipelineYaml: ../pipelines/add.yaml#addA',
      'requestCpus: 2',
      'requestMemory: 4096',
      'payload:',
      '  payloadName: demo',
      '  butlerConfig: ../butler-repo',
      '  inCollection: demo/raw,demo/calib',
      '  dataQuery: "detector IN (1, 2)"',
      '  output: u/alice/bps-demo',
      ''
    ].join('\n');
    expect(valuesFromBpsYaml('work/bps/submit.yaml', bps)).toEqual({
      values: {
        pipelineFile: 'work/pipelines/add.yaml',
        labels: 'addA',
        standard: '',
        butlerRepo: 'work/butler-repo',
        inputCollections: 'demo/raw, demo/calib',
        dataQuery: 'detector IN (1, 2)',
        outputCollection: 'u/alice/bps-demo',
        cpus: 2,
        memoryMiB: 4096
      },
      notes: []
    });
  });

  it('says which BPS values it cannot use', () => {
    const { values, notes } = valuesFromBpsYaml(
      'submit.yaml',
      'pipelineYaml: ${DRP_PIPE_DIR}/pipelines/DRP.yaml\npayload:\n  butlerConfig: ../../repo\n'
    );
    expect(values.pipelineFile).toBeUndefined();
    expect(notes).toEqual([
      'pipelineYaml is ${DRP_PIPE_DIR}/pipelines/DRP.yaml in the BPS file: give it relative to your Jupyter folder.',
      'payload.butlerConfig is ../../repo in the BPS file, outside your Jupyter folder.'
    ]);
    expect(valuesFromBpsYaml('s.yaml', 'payload: [').notes[0]).toMatch(
      /^s\.yaml is not valid YAML \(.+\): fill in the fields yourself\.$/
    );
  });

  it('adds a config override file as a row labelled by its name', () => {
    expect(valuesFromConfigFile('configs/addA.py')).toEqual({
      configFiles: 'addA:configs/addA.py'
    });
  });
});
