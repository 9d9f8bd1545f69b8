/**
 * The Batch jobs panel with 10,000 jobs in a real JupyterLab in Chromium (config:
 * playwright.config.ts here; the store is filled by bench/seed-jobs.mjs before the proxy starts).
 *
 * Measured in the page with performance.now():
 * - open: from executing `user-batch:open-jobs-panel` to its first rows in the DOM with the
 *   count "10000 jobs" (the model already holds the list, as it does once JupyterLab has loaded),
 *   then to "painted": a task posted from the next animation frame, which runs once that frame's
 *   style, layout and paint are done; JupyterLab's Launcher tab is measured the same way;
 * - live update: from the event stream's `job` / `job-deleted` event reaching the page (the
 *   model's listener starts) to the panel's DOM showing it (a row with the event's state; a
 *   deleted row gone), then to painted as above. The updates are real: jobs deleted
 *   through the API, and a small cells job submitted through the API and run on the local
 *   backend (created, then its state changes).
 *
 * Writes bench/monitor/results.json and prints a summary.
 */
import { expect, test } from '@jupyterlab/galata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const JOBS = Number(process.env.UI_TEST_SEED_JOBS ?? '10000');
const OPENS = 15;
const DELETES = 10;
const SUBMITS = 3;

test.use({ autoGoto: false });

declare global {
  interface Window {
    __ubEvents: Array<{
      type: string;
      id: string;
      state: string | null;
      at: number;
      dom?: number;
      frame?: number;
    }>;
  }
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const summary = (values: number[]) => ({
  median: Math.round(median(values) * 10) / 10,
  min: Math.round(Math.min(...values) * 10) / 10,
  max: Math.round(Math.max(...values) * 10) / 10,
  n: values.length
});

test('Batch jobs panel with 10,000 jobs: open and live updates', async ({
  page
}) => {
  // Note when each stream event reaches the page, before the model's listener runs.
  await page.addInitScript(() => {
    window.__ubEvents = [];
    const add = EventSource.prototype.addEventListener;
    EventSource.prototype.addEventListener = function (
      this: EventSource,
      type: string,
      listener: EventListenerOrEventListenerObject,
      options?: boolean | AddEventListenerOptions
    ) {
      if (
        (type === 'job' || type === 'job-deleted') &&
        typeof listener === 'function'
      ) {
        const wrapped = (event: Event) => {
          const data = JSON.parse((event as MessageEvent).data);
          window.__ubEvents.push({
            type,
            id: data.id,
            state: data.state ?? null,
            at: performance.now()
          });
          return listener.call(this, event);
        };
        return add.call(this, type, wrapped, options);
      }
      return add.call(this, type, listener, options);
    } as typeof EventSource.prototype.addEventListener;
  });

  await page.goto();
  await page.waitForFunction(() => !!window.jupyterapp);
  await page.evaluate(async () => {
    await window.jupyterapp.restored;
    await window.jupyterapp.commands.execute('user-batch:open');
  });
  // The model holds the whole list once the sidebar's link counts it.
  const link = page.locator('.jp-Batch-OpenPanel');
  await expect(link).toContainText(`All ${JOBS} jobs`, { timeout: 300_000 });
  const listLoadedMs = await page.evaluate(() => performance.now());

  // The list as the model reads it at load and at every reconnect: GET /api/jobs.
  const list: { ms: number; bytes: number; jobs: number }[] = [];
  for (let i = 0; i < 5; i++) {
    list.push(
      await page.evaluate(async () => {
        const url = `${window.jupyterapp.serviceManager.serverSettings.baseUrl}user-batch/api/jobs`;
        const t0 = performance.now();
        const response = await fetch(url);
        const text = await response.text();
        const jobs = JSON.parse(text).jobs.length;
        return { ms: performance.now() - t0, bytes: text.length, jobs };
      })
    );
  }

  // Open (and close) the panel a few times.
  const opens: { dom: number; frame: number }[] = [];
  for (let i = 0; i < OPENS; i++) {
    const timing = await page.evaluate(async total => {
      const t0 = performance.now();
      await window.jupyterapp.commands.execute('user-batch:open-jobs-panel');
      const ready = () =>
        document.querySelector('.jp-Batch-JobsPanel .jp-Batch-TableRow') &&
        document.querySelector('.jp-Batch-JobsPanel .jp-Batch-TableCount')
          ?.textContent === `${total} jobs`;
      const dom = await new Promise<number>(resolve => {
        if (ready()) {
          resolve(performance.now());
          return;
        }
        const observer = new MutationObserver(() => {
          if (ready()) {
            observer.disconnect();
            resolve(performance.now());
          }
        });
        observer.observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true
        });
      });
      const frame = await new Promise<number>(resolve =>
        requestAnimationFrame(() =>
          setTimeout(() => resolve(performance.now()), 0)
        )
      );
      return { dom: dom - t0, frame: frame - t0 };
    }, JOBS);
    opens.push(timing);
    if (i < OPENS - 1) {
      await page.evaluate(() => {
        for (const widget of window.jupyterapp.shell.widgets('main')) {
          if (widget.id === 'user-batch-jobs-panel') {
            widget.close();
          }
        }
      });
      await expect(page.locator('.jp-Batch-JobsPanel')).toHaveCount(0);
    }
  }
  if (process.env.BENCH_PROFILE) {
    // Where an open's time goes: a CPU profile of one more open, by function self time.
    await page.evaluate(() => {
      for (const widget of window.jupyterapp.shell.widgets('main')) {
        if (widget.id === 'user-batch-jobs-panel') {
          widget.close();
        }
      }
    });
    const cdp = await page.context().newCDPSession(page.context().pages()[0]);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('user-batch:open-jobs-panel');
      await new Promise(r => setTimeout(r, 300));
    });
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map<string, number>();
    const dt = profile.timeDeltas ?? [];
    const byId = new Map(profile.nodes.map(n => [n.id, n]));
    (profile.samples ?? []).forEach((id, i) => {
      const node = byId.get(id)!;
      const f = node.callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}:${f.columnNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    console.log(
      [...self.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 30)
        .map(([k, v]) => `${v.toFixed(1)} ms  ${k}`)
        .join('\n')
    );
  }
  // For scale: the same measure for JupyterLab's own Launcher tab.
  const launcher: { dom: number; frame: number }[] = [];
  for (let i = 0; i < OPENS; i++) {
    launcher.push(
      await page.evaluate(async () => {
        const t0 = performance.now();
        const widget =
          await window.jupyterapp.commands.execute('launcher:create');
        const ready = () => widget.node.querySelector('.jp-LauncherCard');
        const dom = await new Promise<number>(resolve => {
          if (ready()) {
            resolve(performance.now());
            return;
          }
          const observer = new MutationObserver(() => {
            if (ready()) {
              observer.disconnect();
              resolve(performance.now());
            }
          });
          observer.observe(document.body, { subtree: true, childList: true });
        });
        const frame = await new Promise<number>(resolve =>
          requestAnimationFrame(() =>
            setTimeout(() => resolve(performance.now()), 0)
          )
        );
        widget.close();
        return { dom: dom - t0, frame: frame - t0 };
      })
    );
  }
  await page.evaluate(() =>
    window.jupyterapp.shell.activateById('user-batch-jobs-panel')
  );
  const rowsInDom = await page
    .locator('.jp-Batch-JobsPanel .jp-Batch-TableRow')
    .count();

  // Watch the panel: each noted event is done once the DOM shows it.
  await page.evaluate(() => {
    window.__ubEvents = [];
    const body = document.querySelector('.jp-Batch-JobsPanel')!;
    const settle = () => {
      const now = performance.now();
      for (const event of window.__ubEvents) {
        if (event.dom !== undefined) {
          continue;
        }
        const row = body.querySelector<HTMLElement>(
          `.jp-Batch-TableRow[data-job-id="${event.id}"]:not(.jp-Batch-TableItemRow)`
        );
        const shown =
          event.type === 'job-deleted'
            ? row === null
            : row !== null && row.dataset.state === event.state;
        if (shown) {
          event.dom = now - event.at;
          requestAnimationFrame(() =>
            setTimeout(() => {
              event.frame = performance.now() - event.at;
            }, 0)
          );
        }
      }
    };
    new MutationObserver(settle).observe(body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['data-state']
    });
  });

  // Live update 1: delete jobs in view, one at a time, through the API.
  const base = await page.evaluate(() => {
    const settings = window.jupyterapp.serviceManager.serverSettings;
    return settings.baseUrl;
  });
  const api = `${base}user-batch/api`;
  const visibleIds = await page
    .locator('.jp-Batch-JobsPanel .jp-Batch-TableRow[data-job-id^="seed"]')
    .evaluateAll(rows =>
      rows.map(row => (row as HTMLElement).dataset.jobId as string)
    );
  for (const id of visibleIds.slice(0, DELETES)) {
    const response = await page.request.delete(
      `${api}/jobs/${encodeURIComponent(id)}`
    );
    expect(response.status()).toBe(200);
    await page.waitForFunction(
      jobId =>
        window.__ubEvents.some(
          e =>
            e.id === jobId && e.type === 'job-deleted' && e.frame !== undefined
        ),
      id
    );
  }

  // Live update 2: submit small jobs that run on the local backend: created, then each state.
  for (let i = 0; i < SUBMITS; i++) {
    const response = await page.request.post(`${api}/jobs`, {
      data: {
        name: `bench live ${i}`,
        kind: 'cells',
        source: {
          notebookPath: 'Demo.ipynb',
          cells: [{ id: 'main1', role: 'main', source: 'print("live")' }]
        },
        parameters: {},
        resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 600 },
        backend: 'local'
      }
    });
    expect(response.status()).toBe(201);
    const job = await response.json();
    await page.waitForFunction(
      jobId =>
        window.__ubEvents.some(
          e =>
            e.id === jobId &&
            ['succeeded', 'failed'].includes(e.state ?? '') &&
            e.frame !== undefined
        ),
      job.id,
      { timeout: 120_000 }
    );
  }
  const events = await page.evaluate(() => window.__ubEvents);
  const unseen = events.filter(e => e.dom === undefined);
  const deletes = events.filter(
    e => e.type === 'job-deleted' && e.dom !== undefined
  );
  const updates = events.filter(e => e.type === 'job' && e.dom !== undefined);

  const results = {
    date: new Date().toISOString(),
    jobs: JOBS,
    listLoadedSincePageStartMs: Math.round(listLoadedMs),
    rowsInDom,
    listJobs: {
      ms: summary(list.map(l => l.ms)),
      bytes: list[0].bytes,
      jobs: list[0].jobs
    },
    open: {
      dom: summary(opens.map(o => o.dom)),
      frame: summary(opens.map(o => o.frame))
    },
    launcherOpen: {
      dom: summary(launcher.map(o => o.dom)),
      frame: summary(launcher.map(o => o.frame))
    },
    deleteEvent: {
      dom: summary(deletes.map(e => e.dom!)),
      frame: summary(deletes.map(e => e.frame!))
    },
    jobEvent: {
      dom: summary(updates.map(e => e.dom!)),
      frame: summary(updates.map(e => e.frame!)),
      states: updates.map(e => e.state)
    },
    eventsNotShown: unseen.map(e => `${e.type} ${e.id} ${e.state ?? ''}`),
    samples: { opens, events }
  };
  writeFileSync(
    join(__dirname, 'results.json'),
    JSON.stringify(results, null, 2) + '\n'
  );
  console.log(JSON.stringify({ ...results, samples: undefined }, null, 2));
  await page.screenshot({
    path: test.info().outputPath('jobs-panel-10000.png')
  });
  expect(rowsInDom).toBeLessThan(200);
});
