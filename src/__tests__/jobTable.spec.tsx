/**
 * The Batch jobs panel's table: sort, filters, search, sweeps unfolded
 * under their run, the windowing math, the sidebar's recent jobs, the log
 * search; and the rendered table, which keeps only the rows in view in the
 * DOM however many jobs there are.
 */
import * as React from 'react';
import { createRoot, Root } from 'react-dom/client';

import {
  DEFAULT_SORT,
  filterJobs,
  filterOptions,
  findMatches,
  NO_FILTERS,
  recentJobs,
  scrollToRow,
  sortJobs,
  tableRows,
  toggleSort,
  visibleWindow
} from '../jobTable';
import { Batch } from '../tokens';
import { JobsTable } from '../widgets/jobsPanel';
import { makeJob } from './fakes';

(
  globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
).IS_REACT_ACT_ENVIRONMENT = true;

const NOW = Date.parse('2026-01-02T00:00:00.000Z');

const jobs: Batch.IJob[] = [
  makeJob({
    id: 'a1',
    name: 'fit residuals',
    state: 'succeeded',
    kind: 'cells',
    backend: 'local',
    account: 'alice',
    createdAt: '2026-01-01T12:00:00.000Z',
    startedAt: '2026-01-01T12:00:01.000Z',
    endedAt: '2026-01-01T12:10:01.000Z',
    cost: { reservedCoreHours: 1, usedCoreHours: 0.2 },
    progress: { total: 4, done: 4, failed: 0 },
    notebookPath: 'work/fit.ipynb'
  }),
  makeJob({
    id: 'b2',
    name: 'Band sweep',
    state: 'running',
    kind: 'notebook',
    backend: 'htcondor',
    account: 'g_dp02',
    createdAt: '2026-01-01T13:00:00.000Z',
    startedAt: '2026-01-01T13:00:05.000Z',
    cost: { reservedCoreHours: 3, usedCoreHours: null },
    progress: { total: 3, done: 1, failed: 1, items: 'dfr' },
    notebookPath: 'surveys/bands.ipynb'
  }),
  makeJob({
    id: 'c3',
    name: 'catalog cut',
    state: 'queued',
    kind: 'catalog',
    backend: 'local',
    account: 'alice',
    createdAt: '2026-01-01T11:00:00.000Z',
    startedAt: null,
    cost: { reservedCoreHours: 0.5, usedCoreHours: null },
    progress: null,
    notebookPath: 'work/catalog.ipynb'
  })
];

const ids = (list: ReadonlyArray<Batch.IJob>) => list.map(job => job.id);

describe('sorting', () => {
  it('starts newest first', () => {
    expect(ids(sortJobs(jobs, DEFAULT_SORT, NOW))).toEqual(['b2', 'a1', 'c3']);
  });

  it('sorts names A to Z ignoring case, and back', () => {
    const asc = toggleSort(DEFAULT_SORT, 'name');
    expect(asc).toEqual({ column: 'name', direction: 'asc' });
    expect(ids(sortJobs(jobs, asc, NOW))).toEqual(['b2', 'c3', 'a1']);
    const desc = toggleSort(asc, 'name');
    expect(ids(sortJobs(jobs, desc, NOW))).toEqual(['a1', 'c3', 'b2']);
  });

  it('sorts cost by used, else reserved, core-hours, largest first', () => {
    const sort = toggleSort(DEFAULT_SORT, 'cost');
    expect(sort.direction).toBe('desc');
    expect(ids(sortJobs(jobs, sort, NOW))).toEqual(['b2', 'c3', 'a1']);
  });

  it('puts jobs that have not started last whichever way elapsed is sorted', () => {
    const desc = toggleSort(DEFAULT_SORT, 'elapsed');
    // b2 has run since 13:00:05 (11 h by NOW), a1 ran 10 min, c3 waits.
    expect(ids(sortJobs(jobs, desc, NOW))).toEqual(['b2', 'a1', 'c3']);
    const asc = toggleSort(desc, 'elapsed');
    expect(ids(sortJobs(jobs, asc, NOW))).toEqual(['a1', 'b2', 'c3']);
  });

  it('sorts progress by the share done, jobs that count nothing last', () => {
    const sort = toggleSort(DEFAULT_SORT, 'progress');
    expect(ids(sortJobs(jobs, sort, NOW))).toEqual(['a1', 'b2', 'c3']);
  });

  it('keeps ties newest first and does not change its input', () => {
    const input = jobs.slice();
    const byAccount = sortJobs(
      input,
      { column: 'account', direction: 'asc' },
      NOW
    );
    expect(ids(byAccount)).toEqual(['a1', 'c3', 'b2']);
    expect(ids(input)).toEqual(['a1', 'b2', 'c3']);
  });
});

describe('filters and search', () => {
  it('keeps the jobs of a state, kind, backend and account', () => {
    expect(ids(filterJobs(jobs, { ...NO_FILTERS, state: 'running' }))).toEqual([
      'b2'
    ]);
    expect(ids(filterJobs(jobs, { ...NO_FILTERS, backend: 'local' }))).toEqual([
      'a1',
      'c3'
    ]);
    expect(
      ids(
        filterJobs(jobs, { ...NO_FILTERS, account: 'alice', kind: 'catalog' })
      )
    ).toEqual(['c3']);
  });

  it('searches the name, the id and the notebook path, every word, any case', () => {
    const search = (text: string) =>
      ids(filterJobs(jobs, { ...NO_FILTERS, search: text }));
    expect(search('BAND')).toEqual(['b2']);
    expect(search('c3')).toEqual(['c3']);
    expect(search('work/')).toEqual(['a1', 'c3']);
    expect(search('work cut')).toEqual(['c3']);
    expect(search('nothing like it')).toEqual([]);
    expect(search('   ')).toEqual(['a1', 'b2', 'c3']);
  });

  it('offers the values the jobs have', () => {
    expect(filterOptions(jobs)).toEqual({
      state: ['queued', 'running', 'succeeded'],
      kind: ['catalog', 'cells', 'notebook'],
      backend: ['htcondor', 'local'],
      account: ['alice', 'g_dp02']
    });
  });
});

describe('sweeps', () => {
  it('puts an unfolded sweep’s items under their run, in order', () => {
    const sorted = sortJobs(jobs, DEFAULT_SORT, NOW);
    const folded = tableRows(sorted, new Set());
    expect(folded.map(row => row.type)).toEqual(['job', 'job', 'job']);
    expect(folded[0]).toMatchObject({ type: 'job', items: 3, expanded: false });
    const rows = tableRows(sorted, new Set(['b2', 'a1']));
    expect(
      rows.map(row =>
        row.type === 'job'
          ? row.job.id
          : `${row.job.id}/${row.item}:${row.state}`
      )
    ).toEqual(['b2', 'b2/0:d', 'b2/1:f', 'b2/2:r', 'a1', 'c3']);
    // a1 is no sweep: nothing to unfold
    expect(rows[4]).toMatchObject({ items: 0, expanded: false });
  });
});

describe('windowing', () => {
  it('shows the rows in view and a few either side, within the list', () => {
    expect(visibleWindow(0, 280, 28, 10_000, 5)).toEqual({ start: 0, end: 16 });
    // scrolled to row 1000: rows 995 to 1016
    expect(visibleWindow(28_000, 280, 28, 10_000, 5)).toEqual({
      start: 995,
      end: 1016
    });
    // scrolled to the bottom (280,000 px of rows, 280 in view)
    expect(visibleWindow(279_720, 280, 28, 10_000, 5)).toEqual({
      start: 9985,
      end: 10_000
    });
    expect(visibleWindow(-50, 280, 28, 3, 5)).toEqual({ start: 0, end: 3 });
    expect(visibleWindow(0, 280, 28, 0)).toEqual({ start: 0, end: 0 });
    // scrolled past the end of a list that just shrank: still its last rows
    expect(visibleWindow(28_000, 280, 28, 20, 2)).toEqual({
      start: 17,
      end: 20
    });
  });

  it('scrolls only as far as needed to bring a row into view', () => {
    expect(scrollToRow(5, 0, 280, 28)).toBe(0);
    expect(scrollToRow(20, 0, 280, 28)).toBe(21 * 28 - 280);
    expect(scrollToRow(2, 280, 280, 28)).toBe(56);
  });
});

describe('the sidebar’s jobs', () => {
  it('lists every running job and the newest others up to the limit', () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      makeJob({
        id: `j${i}`,
        state: i === 40 ? 'running' : 'succeeded',
        createdAt: new Date(NOW - i * 60_000).toISOString()
      })
    );
    const shown = recentJobs(many, 10);
    expect(shown).toHaveLength(10);
    expect(ids(shown)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `j${i}`),
      'j40'
    ]);
    expect(recentJobs(jobs, 10)).toBe(jobs);
  });
});

describe('log search', () => {
  it('finds every match, any case, without overlaps, up to a cap', () => {
    expect(findMatches('Error: one\nerror two\nERRORS', 'error')).toEqual([
      [0, 5],
      [11, 16],
      [21, 26]
    ]);
    expect(findMatches('aaaa', 'aa')).toEqual([
      [0, 2],
      [2, 4]
    ]);
    expect(findMatches('text', '')).toEqual([]);
    expect(findMatches('x'.repeat(100), 'x', 7)).toHaveLength(7);
  });
});

describe('the rendered table', () => {
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

  const rowIds = () =>
    Array.from(
      host.querySelectorAll<HTMLElement>(
        '.jp-Batch-TableRow:not(.jp-Batch-TableItemRow)'
      )
    ).map(row => row.dataset.jobId);

  it('puts only a window of 10,000 jobs in the DOM, and sorts, filters and unfolds on click', () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      makeJob({
        id: `job-${i}`,
        name: `run ${String(i).padStart(5, '0')}`,
        state: i % 2 ? 'succeeded' : 'failed',
        createdAt: new Date(NOW - i * 1000).toISOString(),
        progress:
          i === 0 ? { total: 3, done: 2, failed: 1, items: 'dfd' } : null
      })
    );
    const opened: Array<[string, number | undefined]> = [];
    React.act(() =>
      root.render(
        <JobsTable
          jobs={many}
          now={NOW}
          onOpenJob={(id, item) => opened.push([id, item])}
        />
      )
    );
    const shown = rowIds();
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.length).toBeLessThan(100);
    expect(shown[0]).toBe('job-0');
    expect(host.querySelector('.jp-Batch-TableCount')?.textContent).toBe(
      '10000 jobs'
    );

    // name, Z to A: clicked twice
    const nameHeader = host.querySelector<HTMLButtonElement>(
      '[data-column="name"] button'
    )!;
    React.act(() => nameHeader.click());
    React.act(() => nameHeader.click());
    expect(rowIds()[0]).toBe('job-9999');
    expect(
      host
        .querySelector('[role="columnheader"][data-column="name"]')
        ?.getAttribute('aria-sort')
    ).toBe('descending');

    // only the failed ones, and a search
    const state = host.querySelector<HTMLSelectElement>(
      'select[name="state"]'
    )!;
    React.act(() => {
      state.value = 'failed';
      state.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(host.querySelector('.jp-Batch-TableCount')?.textContent).toBe(
      '5000 of 10000 jobs'
    );
    const search = host.querySelector<HTMLInputElement>(
      'input[name="search"]'
    )!;
    const setValue = Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!;
    React.act(() => {
      setValue.call(search, 'run 00000');
      search.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(rowIds()).toEqual(['job-0']);

    // the sweep unfolds its items; a click on one opens its log
    React.act(() =>
      host.querySelector<HTMLButtonElement>('.jp-Batch-SweepToggle')!.click()
    );
    const items = host.querySelectorAll<HTMLElement>('.jp-Batch-TableItemRow');
    expect(Array.from(items, item => item.dataset.itemState)).toEqual([
      'd',
      'f',
      'd'
    ]);
    React.act(() => items[1].click());
    React.act(() =>
      host
        .querySelector<HTMLElement>('.jp-Batch-TableRow[data-job-id="job-0"]')!
        .click()
    );
    expect(opened).toEqual([
      ['job-0', 1],
      ['job-0', undefined]
    ]);
  });
});
