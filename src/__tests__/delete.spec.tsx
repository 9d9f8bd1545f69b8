import { Widget } from '@lumino/widgets';

import { BatchModel } from '../model';
import { Batch } from '../tokens';
import { DeleteJobBody } from '../widgets/deleteDialog';
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

const BASE = '/user/alice/user-batch/api';

describe('deleting a job', () => {
  it('asks the proxy to delete one job, keeping the provenance or not', async () => {
    const fake = new FakeProxyFetch().on(`DELETE ${BASE}/jobs/job-1`, {
      deleted: 'job-1',
      removed: ['batch-jobs/job-1']
    });
    const client = makeClient(fake);
    const result = await client.deleteJob('job-1', true);
    await client.deleteJob('job-1', false);
    expect(result.removed).toEqual(['batch-jobs/job-1']);
    expect(fake.paths()).toEqual([
      `DELETE ${BASE}/jobs/job-1?keepProvenance=true`,
      `DELETE ${BASE}/jobs/job-1?keepProvenance=false`
    ]);
  });

  it('asks the proxy to delete several jobs in one request', async () => {
    const fake = new FakeProxyFetch().on(`POST ${BASE}/jobs/delete`, {
      deleted: ['a'],
      refused: [{ id: 'b', error: 'cancel it first', code: 'job_active' }]
    });
    const result = await makeClient(fake).deleteJobs(['a', 'b'], true);
    expect(result.refused.map(r => r.id)).toEqual(['b']);
    expect(await fake.requests[0].json()).toEqual({
      ids: ['a', 'b'],
      keepProvenance: true
    });
  });

  it('names the job and its output folder in the confirmation, keeping the provenance by default', () => {
    const body = new DeleteJobBody(
      makeJob({ name: 'fit residuals', outputDir: 'batch-jobs/job-7' })
    );
    const text = body.node.textContent ?? '';
    expect(text).toContain('"fit residuals"');
    expect(text).toContain('batch-jobs/job-7');
    expect(text).toContain('Keep the provenance record');
    expect(text).not.toContain('butler');
    expect(body.getValue()).toBe(true);
    body.node.querySelector<HTMLInputElement>('input[type=checkbox]')!.click();
    expect(body.getValue()).toBe(false);
    body.dispose();
  });

  it('says that a pipeline run leaves its datasets in the butler repository', () => {
    const body = new DeleteJobBody(makeJob({ kind: 'pipeline' }));
    expect(body.node.textContent).toContain('butler repository');
    body.dispose();
  });

  it('offers Delete on ended jobs only; a deleted job leaves the list and its details close', async () => {
    FakeEventSource.instances = [];
    const jobs: Batch.IJob[] = [
      makeJob({
        id: 'done',
        state: 'succeeded',
        createdAt: '2026-01-02T00:00:00Z'
      }),
      makeJob({
        id: 'other',
        state: 'failed',
        createdAt: '2026-01-01T00:00:00Z'
      }),
      makeJob({
        id: 'busy',
        state: 'running',
        createdAt: '2026-01-03T00:00:00Z'
      })
    ];
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/jobs`, () => json(200, { jobs }))
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()))
      .on(`DELETE ${BASE}/jobs/done`, () =>
        json(200, { deleted: 'done', removed: ['batch-jobs/done'] })
      );
    const model = new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url),
      logIntervalMs: 1000
    });
    const asked: string[] = [];
    const sidebar = new BatchSidebar({
      model,
      onCancel: async () => true,
      onRelease: async () => undefined,
      onDelete: async job => {
        asked.push(job.id);
        await model.delete(job.id, true);
      },
      onOpenPath: () => undefined
    });
    Widget.attach(sidebar, document.body);
    model.start();
    await flush();
    const listed = () =>
      Array.from(
        sidebar.node.querySelectorAll<HTMLElement>('.jp-Batch-JobItem')
      ).map(item => item.dataset.jobId);
    const deleteButton = () =>
      sidebar.node.querySelector<HTMLButtonElement>(
        '.jp-Batch-JobDetails button.jp-Batch-Delete'
      );
    const show = async (id: string | null) => {
      model.selectJob(id);
      await flush();
      sidebar.update();
      await flush();
    };

    await show('busy');
    expect(deleteButton()).toBeNull();

    await show('done');
    expect(deleteButton()!.textContent).toBe('Delete');
    deleteButton()!.click();
    await flush();
    sidebar.update();
    await flush();
    expect(asked).toEqual(['done']);
    expect(fake.paths()).toContain(
      `DELETE ${BASE}/jobs/done?keepProvenance=true`
    );
    expect(listed()).toEqual(['busy', 'other']);
    expect(model.selectedJobId).toBeNull();

    // Deleted from another lab: the stream says so.
    await show('other');
    FakeEventSource.instances[0].emit('job-deleted', { id: 'other' });
    await flush();
    sidebar.update();
    await flush();
    expect(listed()).toEqual(['busy']);
    expect(sidebar.node.querySelector('.jp-Batch-JobDetails')).toBeNull();
    // A late copy of a deleted job does not bring it back.
    FakeEventSource.instances[0].emit('job', jobs[1]);
    expect(model.jobs.map(j => j.id)).toEqual(['busy']);

    Widget.detach(sidebar);
    sidebar.dispose();
    model.dispose();
  });
});
