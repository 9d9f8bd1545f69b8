import { Widget } from '@lumino/widgets';

import { BatchModel } from '../model';
import { PendingSubmissions } from '../services/pendingSubmissions';
import { Batch } from '../tokens';
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

const BASE = '/user/alice/user-batch/api';

function spec(key: string, name = 'fit residuals'): Batch.IJobSpec {
  return {
    name,
    kind: 'cells',
    source: {
      notebookPath: 'work/analysis.ipynb',
      cells: [{ id: 'c1', role: 'main', source: 'print(1)' }]
    },
    parameters: {},
    resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 600 },
    backend: 'local',
    account: 'alice',
    idempotencyKey: key
  };
}

describe('the pending-submission store', () => {
  beforeEach(() => window.localStorage.clear());

  const store = (scope = '/user/alice/') =>
    new PendingSubmissions({ storage: window.localStorage, scope });

  it('keeps a sent spec until the proxy answers, and outlives a reload', () => {
    const before = store();
    before.add(spec('k1'), new Date('2026-12-02T16:00:00Z'));
    // this page is still sending it: not "unconfirmed" here
    expect(before.unconfirmed).toEqual([]);
    // the page reloads: a new store on the same browser storage
    const after = store();
    expect(after.unconfirmed).toEqual([
      {
        key: 'k1',
        name: 'fit residuals',
        at: '2026-12-02T16:00:00.000Z',
        spec: spec('k1')
      }
    ]);
    after.answered('k1');
    expect(store().unconfirmed).toEqual([]);
  });

  it('shows a send that failed on the way as unconfirmed on the same page', () => {
    const s = store();
    const changes: number[] = [];
    s.changed.connect(() => changes.push(1));
    s.add(spec('k2'));
    s.unanswered('k2');
    expect(s.unconfirmed.map(e => e.key)).toEqual(['k2']);
    s.discard('k2');
    expect(s.unconfirmed).toEqual([]);
    expect(changes.length).toBe(3);
  });

  it("keeps each user's lab apart in one browser", () => {
    store('/user/alice/').add(spec('ka'));
    expect(store('/user/bob/').unconfirmed).toEqual([]);
    expect(store('/user/alice/').unconfirmed.map(e => e.key)).toEqual(['ka']);
  });

  it('remembers that a submission was sent even when its spec does not fit', () => {
    const full = {
      items: new Map<string, string>(),
      getItem(key: string) {
        return this.items.get(key) ?? null;
      },
      setItem(key: string, value: string) {
        if (value.length > 400) {
          throw new DOMException('full', 'QuotaExceededError');
        }
        this.items.set(key, value);
      },
      removeItem(key: string) {
        this.items.delete(key);
      }
    };
    const big = spec('kb');
    big.source.cells = [{ id: 'c1', role: 'main', source: 'x'.repeat(5000) }];
    new PendingSubmissions({ storage: full, scope: 's' }).add(big);
    const entries = new PendingSubmissions({ storage: full, scope: 's' })
      .unconfirmed;
    expect(entries).toMatchObject([{ key: 'kb', spec: null }]);
  });

  it('ignores what it cannot read', () => {
    window.localStorage.setItem(
      'user-batch:pending-submissions:/user/alice/',
      '{not json'
    );
    expect(store().unconfirmed).toEqual([]);
  });
});

describe('a submission the proxy never confirmed', () => {
  beforeEach(() => window.localStorage.clear());

  const makeModel = (fake: FakeProxyFetch) =>
    new BatchModel({
      client: makeClient(fake),
      eventSourceFactory: url => new FakeEventSource(url),
      storage: window.localStorage
    });

  it('is said after a reload, and "Submit again" sends it with its own key: one job', async () => {
    const jobs: Batch.IJob[] = [];
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/jobs`, () => json(200, { jobs }))
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()));
    // the first page: the network fails while the submit is on its way
    const first = makeModel(fake);
    fake.offline = true;
    await expect(first.submit(spec('key-1'))).rejects.toThrow();
    first.dispose();

    // the reloaded page
    fake.offline = false;
    const keys: (string | null)[] = [];
    fake.on(`POST ${BASE}/jobs`, async (request: Request) => {
      keys.push(request.headers.get('Idempotency-Key'));
      const body = (await request.json()) as Batch.IJobSpec;
      keys.push(body.idempotencyKey ?? null);
      const job = makeJob({ id: 'new', name: body.name, state: 'pending' });
      jobs.push(job);
      return json(201, job);
    });
    const model = makeModel(fake);
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
    const note = sidebar.node.querySelector('.jp-Batch-PendingItem')!;
    expect(note.textContent).toMatch(
      /A submission from .+ \(“fit residuals”\) was not confirmed/
    );
    const again = note.querySelector<HTMLButtonElement>(
      'button.jp-Batch-PendingResubmit'
    )!;
    expect(again.textContent).toBe('Submit again');
    again.click();
    await flush();
    sidebar.update();
    await flush();
    expect(keys).toEqual(['key-1', 'key-1']);
    expect(model.selectedJobId).toBe('new');
    expect(sidebar.node.querySelector('.jp-Batch-PendingItem')).toBeNull();
    expect(makeModel(fake).pendingSubmissions).toEqual([]);

    Widget.detach(sidebar);
    sidebar.dispose();
    model.dispose();
  });

  it('is forgotten once the proxy answers, with the job or with a refusal', async () => {
    const fake = new FakeProxyFetch()
      .on(`POST ${BASE}/jobs`, async (request: Request) => {
        const body = (await request.json()) as Batch.IJobSpec;
        return body.name === 'too big'
          ? json(403, { error: 'Over quota.', code: 'quota_exceeded' })
          : json(201, makeJob({ id: 'ok', name: body.name }));
      })
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()));
    const model = makeModel(fake);
    await model.submit(spec('k-ok'));
    await expect(model.submit(spec('k-no', 'too big'))).rejects.toThrow(
      'Over quota.'
    );
    expect(model.pendingSubmissions).toEqual([]);
    expect(makeModel(fake).pendingSubmissions).toEqual([]);
    model.dispose();
  });

  it('can be discarded from the sidebar', async () => {
    new PendingSubmissions({
      storage: window.localStorage,
      scope: 'http://localhost:8888/user/alice/'
    }).add(spec('k-old'));
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/jobs`, () => json(200, { jobs: [] }))
      .on(`GET ${BASE}/quota`, () => json(200, makeQuota()));
    const model = makeModel(fake);
    const sidebar = new BatchSidebar({
      model,
      onCancel: async () => true,
      onRelease: async () => undefined,
      onOpenPath: () => undefined
    });
    Widget.attach(sidebar, document.body);
    sidebar.update();
    await flush();
    sidebar.node
      .querySelector<HTMLButtonElement>('button.jp-Batch-PendingDiscard')!
      .click();
    await flush();
    sidebar.update();
    await flush();
    expect(sidebar.node.querySelector('.jp-Batch-PendingItem')).toBeNull();
    expect(fake.requests.filter(r => r.method === 'POST')).toEqual([]);
    Widget.detach(sidebar);
    sidebar.dispose();
    model.dispose();
  });
});
