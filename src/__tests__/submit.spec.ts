import { BatchModel } from '../model';
import { DEFAULT_SETTINGS } from '../tokens';
import { initialValues, SubmitDialog } from '../widgets/submit';
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

/** Type into a React-controlled field as a person would. */
function type(input: HTMLInputElement | HTMLTextAreaElement, value: string) {
  const proto = Object.getPrototypeOf(input);
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('SubmitDialog', () => {
  beforeAll(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
  });

  it('stays open with the input and the proxy sentence when refused, then submits once accepted', async () => {
    const refusal =
      'This job asks for 100000 MiB of memory; the limit is 4096 MiB a job.';
    let accept = false;
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()))
      .on(`GET ${BASE}/backends`, {
        backends: [
          { name: 'local', label: 'This server', default: true },
          { name: 'htcondor', label: 'HTCondor pool', default: false }
        ]
      })
      .on(`POST ${BASE}/jobs`, () =>
        accept
          ? json(201, makeJob({ id: 'new', name: 'my run', state: 'pending' }))
          : json(422, { error: refusal, code: 'quota_exceeded' })
      );
    FakeEventSource.instances = [];
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);

    const cell = { id: 'work', type: 'code', source: 'print(x)', tags: [] };
    const setupCell = {
      id: 'setup',
      type: 'code',
      source: 'x = 1\ny = 2',
      tags: []
    };
    const dialog = new SubmitDialog({
      title: 'Run in batch',
      model,
      source: {
        kind: 'cells',
        notebookPath: 'work/a.ipynb',
        main: [cell],
        setupCandidates: [setupCell]
      },
      initial: initialValues('a: print(x)', DEFAULT_SETTINGS),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();

    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    const field = <T extends Element>(selector: string) =>
      body.querySelector<T & Element>(selector)!;
    expect(field<HTMLInputElement>('input[name="name"]').value).toBe(
      'a: print(x)'
    );
    expect(field<HTMLSelectElement>('select[name="backend"]').value).toBe(
      'local'
    );
    expect(field<HTMLSelectElement>('select[name="account"]').value).toBe(
      'alice'
    );
    expect(body.querySelector('.jp-Batch-QuotaSummary')!.textContent).toBe(
      'Uses 2 of 4 concurrent jobs, 2 of 4 cores, est. 1 core-hours of 18.5 left'
    );

    type(field('input[name="name"]'), 'my run');
    type(field('input[name="memoryMiB"]'), '100000');
    type(field('textarea[name="parameters"]'), 'x = 5');
    const setup = field<HTMLSelectElement>('select[name="setup"]');
    setup.value = 'chosen';
    setup.dispatchEvent(new Event('change', { bubbles: true }));
    await flush();
    const box = field<HTMLInputElement>(
      '.jp-Batch-SetupCell input[type="checkbox"]'
    );
    expect(box.getAttribute('data-cell-id')).toBe('setup');
    expect(box.parentElement!.textContent).toContain('x = 1');
    box.click();
    await flush();

    dialog.resolve(); // the Submit button, as Enter or a click does
    await flush();
    expect(dialog.isAttached).toBe(true);
    expect(body.querySelector('.jp-Batch-SubmitError')!.textContent).toBe(
      refusal
    );
    expect(field<HTMLInputElement>('input[name="name"]').value).toBe('my run');
    expect(field<HTMLInputElement>('input[name="memoryMiB"]').value).toBe(
      '100000'
    );

    accept = true;
    type(field('input[name="memoryMiB"]'), '2048');
    dialog.resolve(1);
    const { button } = await result;
    expect(button.accept).toBe(true);
    expect(dialog.job?.id).toBe('new');
    expect(model.getJob('new')?.state).toBe('pending');

    const posts = fake.requests.filter(r => r.method === 'POST');
    expect(posts).toHaveLength(2);
    const keys = posts.map(r => r.headers.get('Idempotency-Key'));
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    const spec = await posts[1].json();
    expect(spec).toMatchObject({
      name: 'my run',
      parameters: { x: 5 },
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
      backend: 'local',
      account: 'alice',
      source: {
        cells: [
          { id: 'setup', role: 'setup', source: 'x = 1\ny = 2' },
          { id: 'work', role: 'main', source: 'print(x)' }
        ]
      }
    });
    model.dispose();
  });

  it('shows a validation problem without calling the proxy', async () => {
    const fake = new FakeProxyFetch();
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    const dialog = new SubmitDialog({
      title: 'Run in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: {
        ...initialValues('a', DEFAULT_SETTINGS),
        backend: 'local',
        account: 'alice'
      },
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    expect(body.querySelector('select[name="setup"]')).toBeNull();
    type(
      body.querySelector<HTMLTextAreaElement>('textarea[name="parameters"]')!,
      'ok = 1\nbad'
    );
    dialog.resolve();
    await flush();
    expect(body.querySelector('.jp-Batch-SubmitError')!.textContent).toBe(
      'Parameters, line 2: expected "name = value".'
    );
    expect(fake.requests).toHaveLength(0);
    dialog.resolve(0); // Cancel
    expect((await result).button.accept).toBe(false);
    model.dispose();
  });
});

describe('SubmitDialog with a sweep', () => {
  beforeAll(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
  });

  it("counts the sweep's runs live, against the quota of the chosen backend, and submits its items", async () => {
    FakeEventSource.instances = [];
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()))
      .on(`GET ${BASE}/backends`, {
        backends: [
          {
            name: 'local',
            label: 'This server',
            default: true,
            sweepsInParallel: false
          },
          {
            name: 'htcondor',
            label: 'HTCondor pool',
            default: false,
            sweepsInParallel: true
          }
        ]
      })
      .on(`POST ${BASE}/jobs`, () =>
        json(201, makeJob({ id: 'sw', state: 'pending' }))
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);
    const dialog = new SubmitDialog({
      title: 'Run notebook in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: initialValues('a', DEFAULT_SETTINGS),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    const text = (selector: string) =>
      body.querySelector(selector)?.textContent ?? null;
    const sweep = body.querySelector<HTMLTextAreaElement>(
      'textarea[name="sweep"]'
    )!;
    expect(sweep.placeholder).toBe(
      'band = ["g", "r", "i"]\nthreshold = [0.1, 0.5]'
    );
    expect(text('.jp-Batch-SweepSummary')).toBeNull();

    type(sweep, 'band = ["g", "r", "i"]\nthreshold = [0.1, 0.5]');
    await flush();
    expect(text('.jp-Batch-SweepSummary')).toBe('→ 6 runs, one after another');
    expect(text('.jp-Batch-QuotaSummary')).toBe(
      'Uses 2 of 4 concurrent jobs, 2 of 4 cores, est. 6 core-hours of 18.5 left'
    );

    const backend = body.querySelector<HTMLSelectElement>(
      'select[name="backend"]'
    )!;
    backend.value = 'htcondor';
    backend.dispatchEvent(new Event('change', { bubbles: true }));
    await flush();
    expect(text('.jp-Batch-SweepSummary')).toBe(
      '→ 6 runs, all at once: 6 × 1 CPU = 6 cores'
    );
    expect(text('.jp-Batch-QuotaSummary')).toBe(
      'Uses 2 of 4 concurrent jobs, 7 of 4 cores, est. 6 core-hours of 18.5 left — over the limit for cores'
    );

    type(sweep, 'band = "g"');
    await flush();
    const line = body.querySelector('.jp-Batch-SweepSummary')!;
    expect(line.classList.contains('-mod-warn')).toBe(true);
    expect(line.textContent).toBe(
      'Sweep, line 1: the value of "band" must be a list of values, e.g. band = ["g", "r"].'
    );
    dialog.resolve();
    await flush();
    expect(text('.jp-Batch-SubmitError')).toBe(line.textContent);
    expect(fake.requests.filter(r => r.method === 'POST')).toHaveLength(0);

    type(sweep, 'band = ["g", "r"]');
    await flush();
    dialog.resolve(1);
    expect((await result).button.accept).toBe(true);
    const posted = fake.requests.find(r => r.method === 'POST')!;
    expect(await posted.json()).toMatchObject({
      backend: 'htcondor',
      sweep: [{ band: 'g' }, { band: 'r' }]
    });
    model.dispose();
  });
});

describe('SubmitDialog without the service', () => {
  beforeAll(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
  });

  it('says why the quota cannot be shown instead of waiting for ever', async () => {
    FakeEventSource.instances = [];
    const fake = new FakeProxyFetch();
    fake.offline = true;
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url),
      minBackoffMs: 60000
    });
    const dialog = new SubmitDialog({
      title: 'Run notebook in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: initialValues('a', DEFAULT_SETTINGS),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    const summary = () =>
      document.querySelector('.jp-Batch-SubmitDialog .jp-Batch-QuotaSummary')!
        .textContent;
    expect(summary()).toBe('Reading your quota…');
    model.start();
    await flush();
    expect(summary()).toMatch(
      /^Your quota cannot be read: The User Batch service at http:\/\/localhost:8888\/user\/alice\/user-batch\/ could not be reached/
    );
    dialog.resolve(0);
    await result;
    model.dispose();
  });
});

describe('SubmitDialog on a Dask Gateway backend', () => {
  beforeAll(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
  });

  it('asks for workers per cluster only there, counts them in the quota line and submits them', async () => {
    FakeEventSource.instances = [];
    const quota = makeQuota({ concurrentCores: 0 });
    quota.limits.concurrentCores = 16;
    quota.limits.daskWorkersPerCluster = 4;
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, quota))
      .on(`GET ${BASE}/backends`, {
        backends: [
          { name: 'local', label: 'This server', default: true, type: 'local' },
          {
            name: 'dask',
            label: 'Dask Gateway',
            default: false,
            type: 'dask-gateway'
          }
        ]
      })
      .on(`POST ${BASE}/jobs`, () =>
        json(201, makeJob({ id: 'dk', state: 'pending' }))
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);
    const dialog = new SubmitDialog({
      title: 'Run notebook in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: initialValues('a', DEFAULT_SETTINGS),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    const text = (selector: string) =>
      body.querySelector(selector)?.textContent ?? null;
    const labels = () =>
      [...body.querySelectorAll('.jp-Batch-Field > span')].map(
        span => span.textContent
      );
    expect(body.querySelector('select[name="workersMode"]')).toBeNull();
    expect(labels()).toContain('CPUs');

    const choose = (name: string, value: string) => {
      const select = body.querySelector<HTMLSelectElement>(
        `select[name="${name}"]`
      )!;
      select.value = value;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    };
    choose('backend', 'dask');
    await flush();
    expect(labels()).toEqual(
      expect.arrayContaining([
        'CPUs per worker',
        'Memory per worker (MiB)',
        'Workers',
        'Count'
      ])
    );
    type(body.querySelector<HTMLInputElement>('input[name="workers"]')!, '3');
    await flush();
    expect(text('.jp-Batch-QuotaSummary')).toBe(
      'Uses 2 of 4 concurrent jobs, 3 of 16 cores, est. 3 core-hours of 18.5 left'
    );

    choose('workersMode', 'adaptive');
    await flush();
    type(
      body.querySelector<HTMLInputElement>('input[name="maxWorkers"]')!,
      '6'
    );
    await flush();
    expect(text('.jp-Batch-QuotaSummary')).toBe(
      'Uses 2 of 4 concurrent jobs, 6 of 16 cores, est. 6 core-hours of 18.5 left — over the limit for Dask workers (at most 4 workers per cluster)'
    );
    type(
      body.querySelector<HTMLInputElement>('input[name="maxWorkers"]')!,
      '4'
    );
    await flush();
    dialog.resolve(1);
    expect((await result).button.accept).toBe(true);
    const posted = fake.requests.find(r => r.method === 'POST')!;
    expect((await posted.json()).resources).toEqual({
      cpus: 1,
      memoryMiB: 2048,
      walltimeSeconds: 3600,
      adaptiveWorkers: { minimum: 1, maximum: 4 }
    });
    model.dispose();
  });
});

describe('SubmitDialog while the proxy is still starting', () => {
  beforeAll(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
  });

  // #10: a Submit pressed before the backends and accounts arrived was refused
  // with "Choose a backend" (below the fold); nothing was sent, and a reload
  // a few seconds later found no job.
  it('waits for the lists, saying so, then submits with their defaults', async () => {
    FakeEventSource.instances = [];
    let listed: () => void = () => undefined;
    const lists = new Promise<void>(resolve => (listed = resolve));
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, async () => {
        await lists;
        return json(200, makeQuota());
      })
      .on(`GET ${BASE}/backends`, async () => {
        await lists;
        return json(200, {
          backends: [{ name: 'local', label: 'This server', default: true }]
        });
      })
      .on(`POST ${BASE}/jobs`, () =>
        json(201, makeJob({ id: 'new', name: 'early', state: 'pending' }))
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    const dialog = new SubmitDialog({
      title: 'Run notebook in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: initialValues('early', DEFAULT_SETTINGS),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    dialog.resolve(1);
    await new Promise(resolve => setTimeout(resolve, 300));
    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    expect(body.querySelector('.jp-Batch-Busy')!.textContent).toBe(
      'Waiting for the batch service to list its backends and your accounts…'
    );
    expect(body.querySelector('.jp-Batch-SubmitError')).toBeNull();
    expect(fake.requests.filter(r => r.method === 'POST')).toEqual([]);
    listed();
    expect((await result).button.accept).toBe(true);
    const posted = fake.requests.find(r => r.method === 'POST')!;
    expect(await posted.json()).toMatchObject({
      name: 'early',
      backend: 'local',
      account: 'alice'
    });
    model.dispose();
  });

  it('says nothing was sent when the service cannot be reached', async () => {
    FakeEventSource.instances = [];
    const fake = new FakeProxyFetch();
    fake.offline = true;
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url)
    });
    const dialog = new SubmitDialog({
      title: 'Run notebook in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: initialValues('offline', DEFAULT_SETTINGS),
      preferredBackend: ''
    });
    const result = dialog.launch();
    await flush();
    dialog.resolve(1);
    await new Promise(resolve => setTimeout(resolve, 400));
    expect(
      document.querySelector('.jp-Batch-SubmitDialog .jp-Batch-SubmitError')!
        .textContent
    ).toMatch(
      /^Nothing was sent: the batch service has not listed its backends and your accounts \(The User Batch service at .* could not be reached/
    );
    expect(fake.requests.filter(r => r.method === 'POST')).toEqual([]);
    dialog.resolve(0);
    await result;
    model.dispose();
  });
});
