import { Widget } from '@lumino/widgets';
import * as React from 'react';
import { createRoot, Root } from 'react-dom/client';

import { BatchModel } from '../model';
import { Batch } from '../tokens';
import {
  JobDetails,
  JobList,
  MAX_ITEM_SQUARES,
  QuotaGauges
} from '../widgets/jobs';
import { BatchSidebar } from '../widgets/sidebar';
import {
  FakeEventSource,
  FakeProxyFetch,
  flush,
  json,
  makeClient,
  makeJob,
  makeQuota
} from './fakes';

(
  globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
).IS_REACT_ACT_ENVIRONMENT = true;

const NOW = Date.parse('2026-01-01T10:01:05.000Z');

describe('sidebar components', () => {
  let host: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });
  afterEach(() => {
    React.act(() => root.unmount());
    host.remove();
  });

  const render = (element: React.ReactElement) =>
    React.act(() => root.render(element));

  it('shows each quota as used / limit and warns near the limit', () => {
    render(
      <QuotaGauges
        quota={makeQuota({
          concurrentJobs: 1,
          concurrentCores: 4,
          coreHours: 17
        })}
        jobs={[
          makeJob({
            resources: { cpus: 4, memoryMiB: 4096, walltimeSeconds: 60 }
          })
        ]}
      />
    );
    const gauge = (name: string) =>
      host.querySelector(`.jp-Batch-QuotaGauge[data-limit="${name}"]`)!;
    expect(gauge('concurrentJobs').textContent).toContain('1 / 4');
    expect(gauge('concurrentJobs').classList.contains('-mod-warn')).toBe(false);
    expect(gauge('coreHours').textContent).toContain('17 / 20');
    expect(gauge('coreHours').classList.contains('-mod-warn')).toBe(true);
    expect(gauge('concurrentCores').classList.contains('-mod-full')).toBe(true);
    expect(gauge('memoryPerJobMiB').textContent).toContain('4096 / 8192');
  });

  it('lists jobs with their state and elapsed time, and reports clicks', () => {
    const selected: string[] = [];
    render(
      <JobList
        jobs={[
          makeJob({ id: 'r', name: 'running one' }),
          makeJob({
            id: 'q',
            name: 'queued one',
            state: 'queued',
            startedAt: null
          })
        ]}
        selectedId="q"
        now={NOW}
        onSelect={id => selected.push(id)}
      />
    );
    const rows = host.querySelectorAll('.jp-Batch-JobItem');
    expect(Array.from(rows).map(r => r.getAttribute('data-job-id'))).toEqual([
      'r',
      'q'
    ]);
    expect(rows[0].getAttribute('data-state')).toBe('running');
    expect(rows[0].querySelector('.jp-Batch-JobName')!.textContent).toBe(
      'running one'
    );
    expect(rows[0].querySelector('.jp-Batch-JobState')!.textContent).toBe(
      'running'
    );
    expect(rows[0].querySelector('.jp-Batch-JobElapsed')!.textContent).toBe(
      '1:00'
    );
    expect(rows[1].querySelector('.jp-Batch-JobElapsed')!.textContent).toBe(
      'waiting 1:05'
    );
    expect(rows[1].classList.contains('jp-mod-selected')).toBe(true);
    React.act(() => (rows[0] as HTMLElement).click());
    expect(selected).toEqual(['r']);
  });

  it('shows a failed job: error with cell, outputs with the notebook first, provenance', () => {
    const job = makeJob({
      id: 'f',
      state: 'failed',
      stateReason: 'A cell raised an error.',
      endedAt: '2026-01-01T10:00:35.000Z',
      exitCode: 1,
      error: {
        ename: 'ValueError',
        evalue: 'bad value',
        traceback: 'Traceback…\nValueError: bad value',
        cellId: 'broken'
      },
      outputNotebook: 'batch-jobs/f/analysis.ipynb'
    });
    const opened: string[] = [];
    const cancelled: string[] = [];
    render(
      <JobDetails
        job={job}
        log={{
          jobId: 'f',
          text: '[cell broken] start\n',
          next: 20,
          complete: true
        }}
        details={{
          jobId: 'f',
          outputs: [
            {
              path: 'result.txt',
              size: 4,
              sha256: 'aa',
              jupyterPath: 'batch-jobs/f/result.txt'
            },
            {
              path: 'analysis.ipynb',
              size: 2048,
              sha256: 'bb',
              jupyterPath: 'batch-jobs/f/analysis.ipynb'
            }
          ],
          provenance: {
            code: [
              { sha256: 'c0ffee', kind: 'cell', cellId: 'broken', role: 'main' }
            ],
            notebook: { path: 'work/analysis.ipynb', sha256: 'feed' },
            parameters: { threshold: 42 },
            environment: { python: { version: '3.12.1' } },
            exit: { exitCode: 1, reason: 'cell_error' }
          }
        }}
        now={NOW}
        provenanceUrl="http://x/user-batch/api/jobs/f/provenance?download=1"
        onCancel={j => cancelled.push(j.id)}
        onRelease={() => undefined}
        onOpenPath={path => opened.push(path)}
        onClose={() => undefined}
      />
    );
    const details = host.querySelector(
      '.jp-Batch-JobDetails[data-job-id="f"]'
    )!;
    expect(details.querySelector('button.jp-Batch-Cancel')).toBeNull();
    const error = details.querySelector('.jp-Batch-Error')!.textContent;
    expect(error).toContain('ValueError: bad value');
    expect(error).toContain('in cell broken');
    expect(details.querySelector('pre.jp-Batch-Log')!.textContent).toBe(
      '[cell broken] start\n'
    );
    const links = details.querySelectorAll<HTMLAnchorElement>(
      '.jp-Batch-Outputs .jp-Batch-OutputLink'
    );
    expect(Array.from(links).map(a => a.textContent)).toEqual([
      'analysis.ipynb',
      'result.txt'
    ]);
    React.act(() => links[1].click());
    expect(opened).toEqual(['batch-jobs/f/result.txt']);
    const provenance = details.querySelector(
      '.jp-Batch-Provenance'
    )!.textContent!;
    expect(provenance).toContain('broken (main): sha256 c0ffee');
    expect(provenance).toContain('work/analysis.ipynb (sha256 feed)');
    expect(provenance).toContain('threshold = 42');
    expect(provenance).toContain('3.12.1');
    expect(provenance).toContain('1 (cell_error)');
    const download = details.querySelector<HTMLAnchorElement>(
      '.jp-Batch-ProvenanceDownload'
    )!;
    expect(download.textContent).toBe('Download JSON');
    expect(download.href).toBe(
      'http://x/user-batch/api/jobs/f/provenance?download=1'
    );
  });

  it('draws a sweep as a square per item with counts, and reports the clicked item', () => {
    const picked: number[] = [];
    const job = makeJob({
      id: 's',
      progress: { total: 7, done: 2, failed: 1, items: 'ddfrhqc' }
    });
    render(
      <JobDetails
        job={job}
        log={{ jobId: 's', text: 'n=3\n', next: 4, complete: false, item: 2 }}
        details={null}
        now={NOW}
        provenanceUrl=""
        onCancel={() => undefined}
        onRelease={() => undefined}
        onOpenPath={() => undefined}
        onClose={() => undefined}
        onSelectItem={item => picked.push(item)}
      />
    );
    const squares = Array.from(
      host.querySelectorAll<HTMLElement>('.jp-Batch-SweepItem')
    );
    expect(squares.map(q => q.dataset.state).join('')).toBe('ddfrhqc');
    expect(squares.map(q => q.dataset.item)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6'
    ]);
    expect(squares[2].title).toBe('item 2: failed');
    expect(squares[6].title).toBe('item 6: cancelled');
    expect(squares[2].classList.contains('jp-mod-selected')).toBe(true);
    expect(host.querySelector('.jp-Batch-SweepCounts')!.textContent).toBe(
      '2 done · 1 failed · 1 running · 2 waiting · 1 held · 1 cancelled of 7'
    );
    expect(host.querySelector('.jp-Batch-LogTitle')!.textContent).toBe(
      'Log — item 2'
    );
    expect(host.querySelector('.jp-Batch-Facts')!.textContent).toContain(
      'Runs2 of 7 done, 1 failed'
    );
    React.act(() => squares[4].click());
    expect(picked).toEqual([4]);
  });

  it('draws a sweep of more than 2,000 items as one bar, and picks an item by number', () => {
    const picked: number[] = [];
    const items = 'd'.repeat(2400) + 'f'.repeat(100) + 'q'.repeat(500);
    render(
      <JobDetails
        job={makeJob({
          id: 'big',
          progress: { total: 3000, done: 2400, failed: 100, items }
        })}
        log={null}
        details={null}
        now={NOW}
        provenanceUrl=""
        onCancel={() => undefined}
        onRelease={() => undefined}
        onOpenPath={() => undefined}
        onClose={() => undefined}
        onSelectItem={item => picked.push(item)}
      />
    );
    expect(items.length).toBeGreaterThan(MAX_ITEM_SQUARES);
    expect(host.querySelectorAll('.jp-Batch-SweepItem')).toHaveLength(0);
    const parts = Array.from(
      host.querySelectorAll<HTMLElement>('.jp-Batch-SweepBarPart')
    );
    expect(parts.map(p => [p.dataset.state, p.style.flexGrow])).toEqual([
      ['d', '2400'],
      ['f', '100'],
      ['q', '500']
    ]);
    expect(host.querySelector('.jp-Batch-LogTitle')!.textContent).toBe('Log');
    const input = host.querySelector<HTMLInputElement>(
      'input[name="sweep-item"]'
    )!;
    input.value = '2450';
    React.act(() => {
      input.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
      );
    });
    input.value = '3000';
    React.act(() => {
      input.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
      );
    });
    expect(picked).toEqual([2450]);
  });

  it('shows no item grid for a job that is not a sweep', () => {
    render(
      <JobDetails
        job={makeJob({ id: 'one' })}
        log={null}
        details={null}
        now={NOW}
        provenanceUrl=""
        onCancel={() => undefined}
        onRelease={() => undefined}
        onOpenPath={() => undefined}
        onClose={() => undefined}
      />
    );
    expect(host.querySelector('.jp-Batch-Sweep')).toBeNull();
    expect(host.querySelector('.jp-Batch-Facts')!.textContent).toContain(
      'Cells1 of 3 done'
    );
  });

  it('offers Cancel for a job still running', () => {
    const cancelled: string[] = [];
    render(
      <JobDetails
        job={makeJob({ id: 'r' })}
        log={null}
        details={null}
        now={NOW}
        provenanceUrl=""
        onCancel={j => cancelled.push(j.id)}
        onRelease={() => undefined}
        onOpenPath={() => undefined}
        onClose={() => undefined}
      />
    );
    expect(host.querySelector('.jp-Batch-Provenance')).toBeNull();
    React.act(() =>
      host.querySelector<HTMLButtonElement>('button.jp-Batch-Cancel')!.click()
    );
    expect(cancelled).toEqual(['r']);
  });

  it('offers Release and Remove for a held job, and only for a held one', () => {
    const released: string[] = [];
    const removed: string[] = [];
    const details = (state: Batch.JobState) => (
      <JobDetails
        job={makeJob({
          id: 'h',
          state,
          stateReason: 'Held by HTCondor (code 6): could not start the program.'
        })}
        log={null}
        details={null}
        now={NOW}
        provenanceUrl=""
        onCancel={j => removed.push(j.id)}
        onRelease={j => released.push(j.id)}
        onOpenPath={() => undefined}
        onClose={() => undefined}
      />
    );
    render(details('held'));
    expect(host.querySelector('.jp-Batch-StateReason')!.textContent).toContain(
      'code 6'
    );
    const cancel = host.querySelector<HTMLButtonElement>(
      'button.jp-Batch-Cancel'
    )!;
    expect(cancel.textContent).toBe('Remove job');
    React.act(() =>
      host.querySelector<HTMLButtonElement>('button.jp-Batch-Release')!.click()
    );
    React.act(() => cancel.click());
    expect(released).toEqual(['h']);
    expect(removed).toEqual(['h']);

    render(details('running'));
    expect(host.querySelector('button.jp-Batch-Release')).toBeNull();
    expect(host.querySelector('button.jp-Batch-Cancel')!.textContent).toBe(
      'Cancel job'
    );
  });

  it('shows a sent cancel as pending until the backend confirms', () => {
    render(
      <JobDetails
        job={makeJob({ id: 'r' })}
        log={null}
        details={null}
        now={NOW}
        provenanceUrl=""
        cancelling
        onCancel={() => undefined}
        onRelease={() => undefined}
        onOpenPath={() => undefined}
        onClose={() => undefined}
      />
    );
    const button = host.querySelector<HTMLButtonElement>(
      'button.jp-Batch-Cancel'
    )!;
    expect(button.disabled).toBe(true);
    expect(button.textContent).toBe('Cancelling…');
  });
});

describe('BatchSidebar', () => {
  // The widget renders on Lumino's message loop, outside act(); the test
  // waits for it instead.
  beforeAll(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
  });
  it('renders the model state and follows its signals', async () => {
    FakeEventSource.instances = [];
    const jobs: Batch.IJob[] = [makeJob({ id: 'a', name: 'first' })];
    const fake = new FakeProxyFetch()
      .on('GET /user/alice/user-batch/api/jobs', () => json(200, { jobs }))
      .on('GET /user/alice/user-batch/api/quota', () => json(200, makeQuota()))
      .on('GET /user/alice/user-batch/api/jobs/a/logs', () =>
        json(200, {
          text: 'tick 1\n',
          from: 0,
          next: 7,
          size: 7,
          complete: false
        })
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url),
      logIntervalMs: 1000
    });
    const sidebar = new BatchSidebar({
      model,
      onCancel: async () => true,
      onRelease: async () => undefined,
      onOpenPath: () => undefined
    });
    Widget.attach(sidebar, document.body);
    model.start();
    await flush();
    sidebar.update();
    await flush();
    expect(sidebar.node.id).toBe('user-batch-sidebar');
    expect(
      sidebar.node.querySelector(
        '.jp-Batch-JobItem[data-job-id="a"][data-state="running"]'
      )
    ).not.toBeNull();
    expect(
      sidebar.node.querySelector(
        '.jp-Batch-QuotaGauge[data-limit="concurrentJobs"]'
      )!.textContent
    ).toContain('1 / 4');

    FakeEventSource.instances[0].emit(
      'job',
      makeJob({ id: 'a', name: 'first', state: 'succeeded' })
    );
    model.selectJob('a');
    await flush();
    expect(
      sidebar.node
        .querySelector('.jp-Batch-JobItem[data-job-id="a"]')!
        .getAttribute('data-state')
    ).toBe('succeeded');
    expect(
      sidebar.node.querySelector(
        '.jp-Batch-JobDetails[data-job-id="a"] .jp-Batch-Log'
      )!.textContent
    ).toBe('tick 1\n');

    Widget.detach(sidebar);
    sidebar.dispose();
    model.dispose();
  });

  it('follows the log of the sweep item clicked in the details', async () => {
    FakeEventSource.instances = [];
    const jobs = [
      makeJob({
        id: 's',
        name: 'sweep',
        backend: 'htcondor',
        progress: { total: 3, done: 1, failed: 1, items: 'dfr' }
      })
    ];
    const fake = new FakeProxyFetch()
      .on('GET /user/alice/user-batch/api/jobs', () => json(200, { jobs }))
      .on('GET /user/alice/user-batch/api/quota', () => json(200, makeQuota()))
      .on('GET /user/alice/user-batch/api/backends', {
        backends: [
          {
            name: 'htcondor',
            label: 'HTCondor',
            default: true,
            sweepsInParallel: true
          }
        ]
      })
      .on('GET /user/alice/user-batch/api/jobs/s/logs', (request: Request) => {
        const item = new URL(request.url).searchParams.get('item');
        const text = `log of ${item ?? 'default'}\n`;
        return json(200, {
          text,
          from: 0,
          next: text.length,
          size: text.length,
          complete: false
        });
      });
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url),
      logIntervalMs: 1000
    });
    const sidebar = new BatchSidebar({
      model,
      onCancel: async () => true,
      onRelease: async () => undefined,
      onOpenPath: () => undefined
    });
    Widget.attach(sidebar, document.body);
    model.start();
    await model.refreshBackends();
    await flush();
    model.selectJob('s');
    await flush();
    const details = () =>
      sidebar.node.querySelector('.jp-Batch-JobDetails[data-job-id="s"]')!;
    // First the item the server shows by default: the first failed one.
    expect(details().querySelector('.jp-Batch-Log')!.textContent).toBe(
      'log of 1\n'
    );
    expect(details().querySelector('.jp-Batch-LogTitle')!.textContent).toBe(
      'Log — item 1'
    );
    expect(model.selectedItem).toBeNull();

    details()
      .querySelector<HTMLElement>('.jp-Batch-SweepItem[data-item="2"]')!
      .click();
    await flush();
    expect(model.selectedItem).toBe(2);
    expect(details().querySelector('.jp-Batch-LogTitle')!.textContent).toBe(
      'Log — item 2'
    );
    expect(details().querySelector('.jp-Batch-Log')!.textContent).toBe(
      'log of 2\n'
    );
    expect(
      details()
        .querySelector('.jp-Batch-SweepItem[data-item="2"]')!
        .classList.contains('jp-mod-selected')
    ).toBe(true);
    expect(fake.paths()).toContain(
      'GET /user/alice/user-batch/api/jobs/s/logs?from=0&item=2'
    );

    Widget.detach(sidebar);
    sidebar.dispose();
    model.dispose();
  });

  it('runs an ended job again from its record and opens the new one', async () => {
    FakeEventSource.instances = [];
    const jobs: Batch.IJob[] = [
      makeJob({ id: 'old', name: 'add', kind: 'pipeline', state: 'failed' })
    ];
    const fake = new FakeProxyFetch()
      .on('GET /user/alice/user-batch/api/jobs', () => json(200, { jobs }))
      .on('GET /user/alice/user-batch/api/quota', () => json(200, makeQuota()))
      .on('GET /user/alice/user-batch/api/jobs/old/logs', () =>
        json(200, { text: '', from: 0, next: 0, size: 0, complete: true })
      )
      .on('POST /user/alice/user-batch/api/jobs/old/rerun', () =>
        json(
          201,
          makeJob({
            id: 'new',
            name: 'add',
            kind: 'pipeline',
            state: 'pending'
          })
        )
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url),
      logIntervalMs: 1000
    });
    const sidebar = new BatchSidebar({
      model,
      onCancel: async () => true,
      onRelease: async () => undefined,
      onRerun: async job => {
        model.selectJob((await model.rerun(job.id)).id);
      },
      onOpenPath: () => undefined
    });
    Widget.attach(sidebar, document.body);
    model.start();
    await flush();
    model.selectJob('old');
    await flush();
    sidebar.update();
    await flush();
    const rerun = sidebar.node.querySelector<HTMLButtonElement>(
      '.jp-Batch-JobDetails[data-job-id="old"] button.jp-Batch-Rerun'
    )!;
    expect(rerun.textContent).toBe('Run again');
    expect(
      sidebar.node.querySelector('.jp-Batch-JobDetails button.jp-Batch-Cancel')
    ).toBeNull();
    rerun.click();
    await flush();
    sidebar.update();
    await flush();
    const post = fake.requests.find(r => r.url.endsWith('/jobs/old/rerun'))!;
    expect(post.method).toBe('POST');
    expect(post.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(model.selectedJobId).toBe('new');
    expect(
      sidebar.node.querySelector('.jp-Batch-JobItem[data-job-id="new"]')
    ).not.toBeNull();

    Widget.detach(sidebar);
    sidebar.dispose();
    model.dispose();
  });
});
