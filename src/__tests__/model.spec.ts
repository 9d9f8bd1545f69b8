import { BatchModel } from '../model';
import { Batch } from '../tokens';
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

function setup(jobs: Batch.IJob[] = [], token = '') {
  FakeEventSource.instances = [];
  const fake = new FakeProxyFetch()
    .on(`GET ${BASE}/jobs`, () => json(200, { jobs }))
    .on(`GET ${BASE}/quota`, () => json(200, makeQuota()));
  const model = new BatchModel({
    client: makeClient(fake, token),
    eventSourceFactory: url => new FakeEventSource(url),
    logIntervalMs: 10,
    minBackoffMs: 5,
    maxBackoffMs: 20
  });
  const ended: Batch.IJob[] = [];
  const jobLists: ReadonlyArray<Batch.IJob>[] = [];
  const quotas: (Batch.IQuotaStatus | null)[] = [];
  model.jobEnded.connect((_, job) => ended.push(job));
  model.jobsChanged.connect((_, list) => jobLists.push(list));
  model.quotaChanged.connect((_, quota) => quotas.push(quota));
  return { fake, model, ended, jobLists, quotas };
}

describe('BatchModel', () => {
  let model: BatchModel | null = null;
  afterEach(() => {
    model?.dispose();
    model = null;
  });

  it('subscribes first, then loads the jobs and the quota', async () => {
    const old = makeJob({ id: 'old', state: 'succeeded' });
    const t = setup([old], 'tok');
    model = t.model;
    model.start();
    expect(FakeEventSource.instances.map(s => s.url)).toEqual([
      'http://localhost:8888/user/alice/user-batch/api/events?token=tok'
    ]);
    await flush();
    expect(model.jobs.map(j => j.id)).toEqual(['old']);
    expect(model.quota?.usage.coreHours).toBe(1.5);
    expect(model.connection).toBe('connected');
    expect(t.quotas).toHaveLength(1);
    // A job that had ended before we looked is no news.
    expect(t.ended).toEqual([]);
    expect(t.fake.paths().sort()).toEqual([
      `GET ${BASE}/jobs`,
      `GET ${BASE}/quota`
    ]);
  });

  it('applies job and quota events and reports live transitions to a final state', async () => {
    const t = setup();
    model = t.model;
    model.start();
    await flush();
    const source = FakeEventSource.instances[0];
    source.open();

    source.emit('job', makeJob({ id: 'a', state: 'pending', startedAt: null }));
    source.emit('job', makeJob({ id: 'a', state: 'running' }));
    expect(model.getJob('a')?.state).toBe('running');
    expect(t.ended).toEqual([]);

    source.emit(
      'job',
      makeJob({ id: 'a', state: 'failed', endedAt: '2026-01-01T10:01:00Z' })
    );
    expect(t.ended.map(j => [j.id, j.state])).toEqual([['a', 'failed']]);

    // A repeated final event is not a second ending, nor may a stale one undo it.
    source.emit('job', makeJob({ id: 'a', state: 'failed' }));
    source.emit('job', makeJob({ id: 'a', state: 'running' }));
    expect(t.ended).toHaveLength(1);
    expect(model.getJob('a')?.state).toBe('failed');

    source.emit('quota', makeQuota({ concurrentJobs: 3 }));
    expect(model.quota?.usage.concurrentJobs).toBe(3);
    expect(t.quotas.at(-1)?.usage.concurrentJobs).toBe(3);

    // Newest first.
    source.emit('job', makeJob({ id: 'b', createdAt: '2026-01-02T00:00:00Z' }));
    expect(t.jobLists.at(-1)?.map(j => j.id)).toEqual(['b', 'a']);
    // Garbage on the stream is ignored.
    source.emit('job', 'not a job');
    expect(model.jobs).toHaveLength(2);
  });

  it('reconnects with backoff after the stream fails and resyncs the lists', async () => {
    const t = setup([makeJob({ id: 'a', state: 'running' })]);
    model = t.model;
    model.start();
    await flush();
    const first = FakeEventSource.instances[0];
    first.open();
    first.fail();
    expect(first.closed).toBe(true);

    // While away, job "a" ended: the next list says so.
    t.fake.on(`GET ${BASE}/jobs`, () =>
      json(200, { jobs: [makeJob({ id: 'a', state: 'succeeded' })] })
    );
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(FakeEventSource.instances).toHaveLength(2);
    const second = FakeEventSource.instances[1];
    second.open();
    await flush();
    expect(model.getJob('a')?.state).toBe('succeeded');
    expect(t.ended.map(j => j.id)).toEqual(['a']);
  });

  it('marks the service unreachable when nothing answers, and recovers', async () => {
    const t = setup();
    model = t.model;
    t.fake.offline = true;
    const states: string[] = [];
    model.connectionChanged.connect((_, s) => states.push(s));
    model.start();
    await flush();
    expect(model.connection).toBe('unreachable');
    expect(model.connectionError?.kind).toBe('network');

    FakeEventSource.instances[0].fail();
    t.fake.offline = false;
    await new Promise(resolve => setTimeout(resolve, 30));
    await flush();
    expect(model.connection).toBe('connected');
    expect(states).toEqual(['unreachable', 'connected']);
  });

  it('tails the log of the selected job only, then loads its outputs and provenance', async () => {
    const log = ['[cell fit] start\n', 'tick 1\n', 'done\n'];
    let served = 0;
    const t = setup([
      makeJob({ id: 'a', state: 'running' }),
      makeJob({ id: 'b' })
    ]);
    model = t.model;
    t.fake
      .on(`GET ${BASE}/jobs/a/logs`, (request: Request) => {
        const from = Number(new URL(request.url).searchParams.get('from'));
        const text = served < log.length ? log[served++] : '';
        return json(200, {
          text,
          from,
          next: from + text.length,
          size: from + text.length,
          complete:
            served >= log.length && model?.getJob('a')?.state === 'succeeded'
        });
      })
      .on(`GET ${BASE}/jobs/a/outputs`, {
        outputs: [
          {
            path: 'result.txt',
            size: 4,
            sha256: 'ff',
            jupyterPath: 'batch-jobs/a/result.txt'
          }
        ]
      })
      .on(`GET ${BASE}/jobs/a/provenance`, { code: [{ sha256: 'abc' }] });
    model.start();
    await flush();
    const source = FakeEventSource.instances[0];
    source.open();

    model.selectJob('a');
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(model.logTail?.text).toBe(log.join(''));
    expect(model.details).toBeNull();

    source.emit('job', makeJob({ id: 'a', state: 'succeeded' }));
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(model.logTail?.complete).toBe(true);
    expect(model.details?.outputs?.map(o => o.path)).toEqual(['result.txt']);
    expect(model.details?.provenance).toEqual({ code: [{ sha256: 'abc' }] });

    // Logs were asked for job "a" alone, with growing offsets, and stopped.
    const logCalls = t.fake.paths().filter(p => p.includes('/logs'));
    expect(logCalls.every(p => p.includes('/jobs/a/logs'))).toBe(true);
    expect(logCalls.slice(0, 3)).toEqual([
      `GET ${BASE}/jobs/a/logs?from=0`,
      `GET ${BASE}/jobs/a/logs?from=17`,
      `GET ${BASE}/jobs/a/logs?from=24`
    ]);
    const count = logCalls.length;
    await new Promise(resolve => setTimeout(resolve, 40));
    expect(t.fake.paths().filter(p => p.includes('/logs'))).toHaveLength(count);
    // No per-job state requests, ever.
    expect(
      t.fake.paths().some(p => /\/jobs\/[^/]+$/.test(p.split('?')[0]))
    ).toBe(false);
  });

  it('watches a job for a tab apart from the sidebar: its log while shown, its details once ended', async () => {
    const t = setup([
      makeJob({ id: 'a', state: 'running' }),
      makeJob({ id: 'b', state: 'running' })
    ]);
    model = t.model;
    const served: Record<string, number> = { a: 0, b: 0 };
    const logs = (id: string) => (request: Request) => {
      const from = Number(new URL(request.url).searchParams.get('from'));
      const text = served[id]++ === 0 ? `${id} says hi\n` : '';
      return json(200, {
        text,
        from,
        next: from + text.length,
        size: from + text.length,
        complete: model?.getJob(id)?.state === 'succeeded'
      });
    };
    t.fake
      .on(`GET ${BASE}/jobs/a/logs`, logs('a'))
      .on(`GET ${BASE}/jobs/b/logs`, logs('b'))
      .on(`GET ${BASE}/jobs/b/outputs`, { outputs: [] })
      .on(`GET ${BASE}/jobs/b/provenance`, { code: [{ sha256: 'b0' }] });
    model.start();
    await flush();
    const source = FakeEventSource.instances[0];
    source.open();

    let shown = true;
    model.selectJob('a'); // the sidebar's job
    const watch = model.watchJob('b', () => shown);
    const changes: number[] = [];
    watch.changed.connect(() => changes.push(1));
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(model.logTail?.text).toBe('a says hi\n');
    expect(watch.log?.text).toBe('b says hi\n');
    expect(watch.job?.id).toBe('b');
    expect(watch.details).toBeNull();

    // Hidden, the tab's log is not read.
    shown = false;
    await new Promise(resolve => setTimeout(resolve, 30));
    const hiddenCount = t.fake
      .paths()
      .filter(p => p.includes('/b/logs')).length;
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(t.fake.paths().filter(p => p.includes('/b/logs'))).toHaveLength(
      hiddenCount
    );

    shown = true;
    source.emit('job', makeJob({ id: 'b', state: 'succeeded' }));
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(watch.details?.provenance).toEqual({ code: [{ sha256: 'b0' }] });
    expect(changes.length).toBeGreaterThan(2);
    // The sidebar's selection never moved.
    expect(model.selectedJobId).toBe('a');

    watch.dispose();
    const count = t.fake.paths().length;
    source.emit('job', makeJob({ id: 'b', state: 'succeeded', name: 'x' }));
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(
      t.fake
        .paths()
        .slice(count)
        .filter(p => p.includes('/jobs/b/'))
    ).toEqual([]);
  });

  it('follows a chosen sweep item, but not where one log holds every item', async () => {
    const t = setup([
      makeJob({
        id: 'c',
        backend: 'htcondor',
        progress: { total: 2, done: 0, failed: 0, items: 'rr' }
      }),
      makeJob({
        id: 'l',
        backend: 'local',
        progress: { total: 2, done: 0, failed: 0, items: 'dr' }
      })
    ]);
    model = t.model;
    const chunk = { text: '', from: 0, next: 0, size: 0, complete: false };
    t.fake
      .on(`GET ${BASE}/jobs/c/logs`, chunk)
      .on(`GET ${BASE}/jobs/l/logs`, chunk)
      .on(`GET ${BASE}/backends`, {
        backends: [
          {
            name: 'local',
            label: 'Here',
            default: true,
            sweepsInParallel: false
          },
          {
            name: 'htcondor',
            label: 'Pool',
            default: false,
            sweepsInParallel: true
          }
        ]
      });
    model.start();
    await model.refreshBackends();
    await flush();

    model.selectJob('c');
    model.selectItem(1);
    expect(model.selectedItem).toBe(1);
    expect(model.logTail).toMatchObject({ jobId: 'c', item: 1, text: '' });
    await flush();
    expect(t.fake.paths()).toContain(`GET ${BASE}/jobs/c/logs?from=0&item=1`);

    // Another job starts again from the server's pick.
    model.selectJob('l');
    expect(model.selectedItem).toBeNull();
    model.selectItem(1);
    expect(model.selectedItem).toBeNull();
    await flush();
    // One log for every item: asked for without an item, polls and all.
    const local = t.fake
      .paths()
      .filter(p => p.startsWith(`GET ${BASE}/jobs/l/logs`));
    expect(local.length).toBeGreaterThan(0);
    expect(local.every(p => p.endsWith('/jobs/l/logs?from=0'))).toBe(true);
  });

  it('adds a submitted job at once and refreshes the quota', async () => {
    const t = setup();
    model = t.model;
    t.fake.on(`POST ${BASE}/jobs`, () =>
      json(201, makeJob({ id: 'new', state: 'pending' }))
    );
    model.start();
    await flush();
    const job = await model.submit({ idempotencyKey: 'k' } as Batch.IJobSpec);
    expect(job.id).toBe('new');
    expect(model.getJob('new')?.state).toBe('pending');
    await flush();
    expect(t.fake.paths().filter(p => p === `GET ${BASE}/quota`)).toHaveLength(
      2
    );
  });
});
