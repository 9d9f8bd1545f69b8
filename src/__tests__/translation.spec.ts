/**
 * Every sentence the extension shows goes through the translator: a bundle
 * that marks what it returns, «like this», is handed to the pure functions,
 * the dialog and the model, and no word may reach the page outside a mark.
 */
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';
import { createRoot } from 'react-dom/client';
import { quotaSummary as contractQuotaSummary } from '@user-batch/contract/lib/quota-cost';

import {
  planLine,
  planRequest,
  EMPTY_REGION,
  ICatalogValues
} from '../catalog';
import { BatchModel } from '../model';
import { BatchClient } from '../request';
import {
  buildJobSpec,
  defaultJobName,
  ISubmitValues,
  quotaSummary,
  sweepSummary
} from '../spec';
import { Batch, DEFAULT_SETTINGS } from '../tokens';
import { TRANSLATION_DOMAIN, TranslationBundle } from '../translation';
import { DeleteJobBody } from '../widgets/deleteDialog';
import { JobsTable } from '../widgets/jobsPanel';
import { WideLog } from '../widgets/jobTab';
import { initialValues, SubmitDialog } from '../widgets/submit';
import {
  FakeEventSource,
  FakeProxyFetch,
  flush,
  json,
  makeJob,
  makeQuota
} from './fakes';

const BASE = '/user/alice/user-batch/api';

/** A call of `_n`: the English forms and the count that picks one. */
interface IPluralCall {
  msgid: string;
  plural: string;
  n: number;
}

/**
 * A bundle that translates nothing but wraps each string it returns in «»,
 * and records its plural calls.
 */
function markingBundle(): TranslationBundle & { plurals: IPluralCall[] } {
  const plain = nullTranslator.load(TRANSLATION_DOMAIN);
  const mark = (text: string) => `«${text}»`;
  const plurals: IPluralCall[] = [];
  return {
    plurals,
    __: (msgid: string, ...args: unknown[]) => mark(plain.__(msgid, ...args)),
    _n: (msgid: string, plural: string, n: number, ...args: unknown[]) => {
      plurals.push({ msgid, plural, n });
      return mark(plain._n(msgid, plural, n, ...args));
    },
    _p: (context: string, msgid: string, ...args: unknown[]) =>
      mark(plain._p(context, msgid, ...args)),
    _np: (
      context: string,
      msgid: string,
      plural: string,
      n: number,
      ...args: unknown[]
    ) => mark(plain._np(context, msgid, plural, n, ...args)),
    gettext: (msgid: string, ...args: unknown[]) =>
      mark(plain.gettext(msgid, ...args)),
    ngettext: (msgid: string, plural: string, n: number, ...args: unknown[]) =>
      mark(plain.ngettext(msgid, plural, n, ...args)),
    pgettext: (context: string, msgid: string, ...args: unknown[]) =>
      mark(plain.pgettext(context, msgid, ...args)),
    npgettext: (
      context: string,
      msgid: string,
      plural: string,
      n: number,
      ...args: unknown[]
    ) => mark(plain.npgettext(context, msgid, plural, n, ...args)),
    dcnpgettext: (
      domain: string,
      context: string,
      msgid: string,
      plural: string,
      n: number,
      ...args: unknown[]
    ) => mark(plain.dcnpgettext(domain, context, msgid, plural, n, ...args))
  };
}

/** The text left once every marked stretch (nested ones too) is taken out. */
function outsideMarks(text: string): string {
  let rest = text;
  for (;;) {
    const next = rest.replace(/«[^«»]*»/g, '');
    if (next === rest) {
      return rest;
    }
    rest = next;
  }
}

const submitValues: ISubmitValues = {
  ...initialValues('run', DEFAULT_SETTINGS),
  backend: 'local',
  account: 'alice'
};

const quota = makeQuota({ concurrentJobs: 0, concurrentCores: 0 });

describe('strings through the translator', () => {
  it('routes every spec-parsing problem, down to the literal parser, through it', () => {
    const trans = markingBundle();
    let message = '';
    try {
      buildJobSpec(
        { kind: 'cells', notebookPath: 'a.ipynb', main: [] },
        {
          ...submitValues,
          name: ' ',
          parameters: 'ok = 1\nbad\nlist = [1, 2',
          sweep: 'band = "g"'
        },
        'key',
        undefined,
        trans
      );
    } catch (reason) {
      message = (reason as Error).message;
    }
    const lines = message.split('\n');
    expect(lines).toEqual([
      '«Give the job a name.»',
      '««Parameters», line 2: «expected "name = value"».»',
      '««Parameters», line 3: «the value of "list" cannot be read: «expected "," or "]" after an item of […]»».»',
      '««Sweep», line 1: «the value of "band" must be a list of values, e.g. band = ["g", "r"]».»',
      '«Select at least one code cell to run.»'
    ]);
    lines.forEach(line => expect(outsideMarks(line)).toBe(''));
  });

  it("routes the catalog dialog's problems and the plan line through it", () => {
    const trans = markingBundle();
    const values: ICatalogValues = {
      ...submitValues,
      functionName: 'process',
      catalogPath: ' ',
      region: {
        ...EMPTY_REGION,
        type: 'cone',
        ra: 'x',
        dec: '1',
        radiusArcsec: '0'
      },
      columns: ''
    };
    const { errors } = planRequest(values, trans);
    expect(errors).toEqual([
      '«Give the catalog folder (a HATS catalog), e.g. catalogs/synthetic.»',
      '««Cone RA (degrees)» must be a number, e.g. 40.5.»',
      '«Cone radius (arcsec) must be more than 0.»'
    ]);

    const plan = {
      catalog: { totalPartitions: 10 },
      totals: { partitions: 4, rows: 1234, bytes: 57344 },
      estimate: { coreHours: 0.002 }
    } as unknown as Batch.ICatalogPlan;
    const line = planLine(plan, trans);
    expect(line).toBe(
      '«4 of 10 partitions» · «1,234 rows in those partitions» · 56.0 KiB · «est. <0.01 core-hours»'
    );
    // Byte units are symbols, the same in every language.
    expect(outsideMarks(line)).toBe(' ·  · 56.0 KiB · ');
    // Plurals agree with the count in languages that have several forms.
    expect(trans.plurals.map(call => call.n)).toEqual([10, 1234]);
  });

  it('routes the quota line through it, the over-limit reasons too', () => {
    const trans = markingBundle();
    const summary = quotaSummary(
      quota,
      { cpus: 6, memoryMiB: 9000, walltimeMinutes: 60, workers: 2 },
      trans
    );
    expect(summary.fits).toBe(false);
    expect(summary.text).toBe(
      '««Uses 1 of 4 concurrent jobs», «12 of 4 cores», «est. 12 core-hours of 18.5 left» — over the limit for «cores», «memory (at most 8192 MiB a job)»»'
    );
    expect(outsideMarks(summary.text)).toBe('');
  });

  it('picks plural forms through _n, with the count', () => {
    const trans = markingBundle();
    expect(sweepSummary('n = [1]', 1, true, trans)?.text).toBe(
      '««→ 1 run», all at once: 1 × «1 CPU» = «1 cores»»'
    );
    expect(sweepSummary('n = [1, 2, 3]', 2, false, trans)?.text).toBe(
      '«→ 3 runs, one after another»'
    );
    expect(trans.plurals).toEqual([
      { msgid: '→ %1 run', plural: '→ %1 runs', n: 1 },
      { msgid: '%1 CPU', plural: '%1 CPUs', n: 1 },
      { msgid: '%1 cores', plural: '%1 cores', n: 1 },
      {
        msgid: '→ %1 run, one after another',
        plural: '→ %1 runs, one after another',
        n: 3
      }
    ]);
    const cells = ['a = 1', 'b = 2', 'c = 3'].map((source, i) => ({
      id: String(i),
      type: 'code',
      source,
      tags: []
    }));
    expect(defaultJobName('work/fit.ipynb', 'cells', cells, trans)).toBe(
      '«fit: a = 1 (+2 cells)»'
    );
  });

  it('says in English just what the contract says of the quota', () => {
    // The dialog words the contract's cost itself, to translate it: the two
    // must not drift apart.
    const limits = (daskWorkersPerCluster?: number) => ({
      concurrentJobs: 2,
      concurrentCores: 8,
      coreHours: 10,
      memoryPerJobMiB: 4096,
      ...(daskWorkersPerCluster === undefined ? {} : { daskWorkersPerCluster })
    });
    let compared = 0;
    for (const cap of [undefined, 1, 3]) {
      for (const usage of [
        { concurrentJobs: 0, concurrentCores: 0, coreHours: 0 },
        { concurrentJobs: 2, concurrentCores: 7, coreHours: 9.5 }
      ]) {
        for (const cpus of [1, 4]) {
          for (const memoryMiB of [1024, 8192]) {
            for (const [runs, parallel] of [
              [1, false],
              [5, true],
              [5, false]
            ] as const) {
              for (const workers of [undefined, 1, 2]) {
                const view = { limits: limits(cap), usage };
                const request = {
                  cpus,
                  memoryMiB,
                  walltimeMinutes: 30,
                  runs,
                  parallel,
                  workers
                };
                expect(quotaSummary(view, request)).toEqual(
                  contractQuotaSummary(view, request)
                );
                compared++;
              }
            }
          }
        }
      }
    }
    expect(compared).toBe(216);
  });

  it('reaches the submit dialog: its buttons, live lines and refusals', async () => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = false;
    const trans = markingBundle();
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/quota`, () => json(200, quota))
      .on(`GET ${BASE}/backends`, {
        backends: [{ name: 'local', label: 'This server', default: true }]
      });
    const model = new BatchModel({
      client: client(fake, trans),
      eventSourceFactory: url => new FakeEventSource(url),
      trans
    });
    await Promise.all([model.refreshQuota(), model.refreshBackends()]);
    const dialog = new SubmitDialog({
      title: 'Run notebook in batch',
      model,
      source: { kind: 'notebook', notebookPath: 'a.ipynb', notebook: {} },
      initial: { ...submitValues, parameters: 'x', sweep: 'x = 1' },
      preferredBackend: '',
      trans
    });
    const result = dialog.launch();
    await flush();
    const body = document.querySelector('.jp-Batch-SubmitDialog')!;
    const text = (selector: string) =>
      document.querySelector(selector)!.textContent!;

    expect(text('.jp-Batch-What')).toBe('«Runs the whole notebook a.ipynb»');
    expect(text('.jp-Dialog-button.jp-mod-accept')).toBe('«Submit»');
    expect(text('.jp-Batch-SweepSummary')).toBe(
      '««Sweep», line 1: «the value of "x" must be a list of values, e.g. x = ["g", "r"]».»'
    );
    expect(outsideMarks(text('.jp-Batch-QuotaSummary'))).toMatch(/^[, ]*$/);

    dialog.resolve(); // Submit: the sweep is wrong, so nothing is sent
    await flush();
    const error = body.querySelector('.jp-Batch-SubmitError')!.textContent!;
    expect(error).toContain('«Sweep»');
    error.split('\n').forEach(line => expect(outsideMarks(line)).toBe(''));
    expect(fake.requests.filter(r => r.method === 'POST')).toHaveLength(0);
    dialog.resolve(0);
    await result;
    model.dispose();
  });

  it('reaches the delete confirmation', () => {
    const body = new DeleteJobBody(
      makeJob({ kind: 'pipeline', state: 'succeeded' }),
      markingBundle()
    );
    expect(outsideMarks(body.node.textContent ?? '').trim()).toBe('');
    body.dispose();
  });

  it("reaches the client's and the model's own sentences", async () => {
    const trans = markingBundle();
    const job = makeJob({ id: 'cat', kind: 'catalog', state: 'succeeded' });
    const fake = new FakeProxyFetch()
      .on(`GET ${BASE}/jobs`, { jobs: [job] })
      .on(`GET ${BASE}/quota`, () => json(200, quota))
      .on(
        `GET ${BASE}/jobs/cat/preview`,
        () => new Response('', { status: 502, statusText: 'Bad Gateway' })
      );
    const model = new BatchModel({
      client: client(fake, trans),
      eventSourceFactory: url => new FakeEventSource(url),
      trans
    });
    await model.refresh();
    model.selectJob('cat');
    await flush();
    const preview = model.catalogRun.state?.preview;
    const error = preview && 'error' in preview ? preview.error : '';
    expect(error).toMatch(/^«The preview cannot be shown: «.+answered 502/);
    expect(error).toContain(
      '«Did the proxy fail to start? The Jupyter server log says why.»'
    );
    expect(outsideMarks(error)).toBe('');

    fake.offline = true;
    await model.refresh();
    expect(model.connectionError?.message).toMatch(
      /^«The User Batch service at .+ could not be reached \(Failed to fetch\)\.»$/
    );
    model.dispose();
  });
});

describe('the Batch jobs panel and the job tab through the translator', () => {
  it('marks every heading, label, count and note', async () => {
    const host = document.createElement('div');
    document.body.appendChild(host);
    const root = createRoot(host);
    const trans = markingBundle();
    const job = makeJob({
      state: 'running',
      progress: { total: 3, done: 1, failed: 1, items: 'dfr' }
    });
    React.act(() =>
      root.render(
        React.createElement(JobsTable, {
          jobs: [],
          now: Date.now(),
          onOpenJob: () => undefined,
          trans
        })
      )
    );
    // no jobs: the headings, the filters (only "All"), the count and the note
    expect(outsideMarks(host.textContent ?? '').replace(/[▼▲\s]/g, '')).toBe(
      ''
    );
    React.act(() =>
      root.render(
        React.createElement(JobsTable, {
          jobs: [job],
          now: Date.now(),
          onOpenJob: () => undefined,
          trans
        })
      )
    );
    React.act(() =>
      host.querySelector<HTMLButtonElement>('.jp-Batch-SweepToggle')!.click()
    );
    const cells = (column: string) =>
      Array.from(
        host.querySelectorAll(`.jp-Batch-TableRow [data-column="${column}"]`),
        cell => cell.textContent ?? ''
      );
    // (elapsed is a duration, h:mm:ss, as in the sidebar)
    for (const column of ['state', 'cost', 'progress']) {
      cells(column).forEach(text => expect(outsideMarks(text)).toBe(''));
    }
    expect(cells('name').slice(1)).toEqual([
      '«item 0»',
      '«item 1»',
      '«item 2»'
    ]);

    React.act(() =>
      root.render(
        React.createElement(WideLog, { log: null, running: true, trans })
      )
    );
    expect(outsideMarks(host.textContent ?? '').replace(/[↑↓\s]/g, '')).toBe(
      ''
    );
    expect(
      host
        .querySelector('input[name="log-search"]')
        ?.getAttribute('placeholder')
    ).toBe('«Search the log»');
    React.act(() => root.unmount());
    host.remove();
  });
});

/** The real client over the stand-in proxy, with the marking bundle. */
function client(fake: FakeProxyFetch, trans: TranslationBundle): BatchClient {
  return new BatchClient({
    serverSettings: ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/user/alice/',
      fetch: fake.fetch
    }),
    proxyUrl: 'user-batch/',
    trans
  });
}
