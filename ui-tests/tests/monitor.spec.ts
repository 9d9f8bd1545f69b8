/**
 * The Batch jobs panel and the job details tab in a real JupyterLab on the local backend: open
 * the panel from the palette and the sidebar, sort, filter, search, unfold a sweep; open a job
 * in a tab, search its log, see its error once and reveal its output folder.
 */
import { expect, test } from '@jupyterlab/galata';
import { Page } from '@playwright/test';
import { BatchHelper, CELL } from './helpers/BatchHelper';
import { sel } from './helpers/selectors';

// wide enough for the table's columns in the screenshots (docs/images/batch-jobs-panel.png)
test.use({ autoGoto: true, viewport: { width: 1440, height: 800 } });

const panel = '.jp-Batch-JobsPanel';
const panelRows = `${panel} .jp-Batch-TableRow:not(.jp-Batch-TableItemRow)`;

/** The job names of the panel's rows, top to bottom. */
async function rowNames(page: Page): Promise<string[]> {
  return page
    .locator(`${panelRows} [data-column="name"] .jp-Batch-CellText`)
    .allTextContents();
}

async function openPanelFromPalette(page: Page): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('.lm-CommandPalette-input').fill('Batch jobs');
  await palette
    .locator('.lm-CommandPalette-item', {
      has: page.locator('.lm-CommandPalette-itemLabel', {
        hasText: /^Batch jobs$/
      })
    })
    .click();
  await expect(page.locator(panel)).toBeVisible();
}

test.describe('Batch jobs panel', () => {
  test('monitor: opens from the palette and the sidebar; sorts, filters, searches and unfolds a sweep', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.runCell(CELL.work, { name: 'mon-alpha', setup: 'above' });
    await batch.runCell(CELL.broken, { name: 'mon-broken', setup: 'none' });
    await batch.runCell(CELL.work, {
      name: 'mon-sweep',
      setup: 'above',
      sweep: 'threshold = [1, 2, 3]'
    });
    await batch.showSidebar();
    await batch.waitForState('mon-alpha', 'succeeded');
    await batch.waitForState('mon-broken', 'failed');
    await batch.waitForState('mon-sweep', 'succeeded');

    await openPanelFromPalette(page);
    await expect(page.locator(`${panel} .jp-Batch-TableCount`)).toContainText(
      'jobs'
    );
    // Only this test's jobs (the lab's store has the other tests' too), newest first.
    await page.locator(`${panel} input[name="search"]`).fill('mon-');
    await expect
      .poll(() => rowNames(page))
      .toEqual(['mon-sweep', 'mon-broken', 'mon-alpha']);

    // Sort by name, A to Z, then Z to A.
    const nameHeader = page.locator(
      `${panel} [role="columnheader"][data-column="name"]`
    );
    await nameHeader.locator('button').click();
    await expect(nameHeader).toHaveAttribute('aria-sort', 'ascending');
    await expect
      .poll(() => rowNames(page))
      .toEqual(['mon-alpha', 'mon-broken', 'mon-sweep']);
    await nameHeader.locator('button').click();
    await expect(nameHeader).toHaveAttribute('aria-sort', 'descending');
    await expect
      .poll(() => rowNames(page))
      .toEqual(['mon-sweep', 'mon-broken', 'mon-alpha']);

    // Filter by state.
    const state = page.locator(`${panel} select[name="state"]`);
    await state.selectOption('failed');
    await expect.poll(() => rowNames(page)).toEqual(['mon-broken']);
    await state.selectOption('');
    await expect.poll(() => rowNames(page)).toHaveLength(3);

    // Search by the job id, then by a word of the name.
    const alphaId = await page
      .locator(panelRows, { hasText: 'mon-alpha' })
      .getAttribute('data-job-id');
    await page.locator(`${panel} input[name="search"]`).fill(alphaId!);
    await expect.poll(() => rowNames(page)).toEqual(['mon-alpha']);
    await page.locator(`${panel} input[name="search"]`).fill('mon-sweep');
    await expect.poll(() => rowNames(page)).toEqual(['mon-sweep']);

    // The sweep's three runs unfold under it, each done.
    const sweepRow = page.locator(panelRows, { hasText: 'mon-sweep' });
    await expect(sweepRow.locator('[data-column="progress"]')).toContainText(
      '3/3'
    );
    await sweepRow.locator('.jp-Batch-SweepToggle').click();
    const items = page.locator(`${panel} .jp-Batch-TableItemRow`);
    await expect(items).toHaveCount(3);
    await expect(items.nth(0)).toHaveAttribute('data-item-state', 'd');
    await expect(items.nth(2)).toContainText('item 2');
    await page.screenshot({
      path: test.info().outputPath('jobs-panel.png')
    });

    // Closed, it opens again from the sidebar's link.
    await page.evaluate(() => {
      for (const widget of window.jupyterapp.shell.widgets('main')) {
        if (widget.id === 'user-batch-jobs-panel') widget.close();
      }
    });
    await expect(page.locator(panel)).toHaveCount(0);
    await page.locator(`${sel.sidebar} .jp-Batch-OpenPanel`).click();
    await expect(page.locator(panel)).toBeVisible();
    await expect(page.locator(`${panel} .jp-Batch-TableCount`)).toContainText(
      'jobs'
    );
  });

  test('monitor: a row opens the job in a tab with a searchable wide log, its error once and its folder in the file browser', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.runCell(CELL.work, {
      name: 'mon-log',
      setup: 'above',
      parameters: 'threshold = 7'
    });
    await batch.runCell(CELL.broken, { name: 'mon-fails', setup: 'none' });
    await batch.showSidebar();
    await batch.waitForState('mon-log', 'succeeded');
    await batch.waitForState('mon-fails', 'failed');

    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('user-batch:open-jobs-panel');
    });
    await page.locator(`${panel} input[name="search"]`).fill('mon-log');
    const row = page.locator(panelRows, { hasText: 'mon-log' });
    const jobId = await row.getAttribute('data-job-id');
    await row.click();

    const tab = page.locator(`.jp-Batch-JobTab:visible`);
    await expect(tab).toBeVisible();
    await expect(tab.locator('.jp-Batch-JobId')).toHaveText(jobId!);
    const log = tab.locator('.jp-Batch-WideLog');
    await expect(log).toContainText('hello from batch, threshold=7');
    await expect(log).toHaveCSS('white-space', 'pre');
    await tab.locator('input[name="log-search"]').fill('THRESHOLD');
    await expect(tab.locator('.jp-Batch-LogMatches')).toHaveText('1 of 1');
    await expect(log.locator('mark.jp-mod-current')).toHaveText('threshold');
    await expect(log.locator('mark.jp-mod-current')).toBeInViewport();
    // the log scrolled to the match, not the tab: the job's id is still in view
    await expect(tab.locator('.jp-Batch-JobId')).toBeInViewport();
    await expect(tab.locator('input[name="follow"]')).not.toBeChecked();
    await page.screenshot({ path: test.info().outputPath('job-tab.png') });

    // Show in file browser: the file browser opens on the job's output folder.
    const folder = (await tab.locator('.jp-Batch-OutputDir').textContent())!;
    await tab.locator('button.jp-Batch-ShowInBrowser').click();
    await expect(page.locator('#filebrowser')).toBeVisible();
    await expect(
      page.locator('#filebrowser .jp-FileBrowser-crumbs')
    ).toContainText(folder.split('/').pop()!);
    await expect(
      page.locator('#filebrowser .jp-DirListing-item', {
        hasText: 'result.txt'
      })
    ).toBeVisible();

    // The failed job, from the sidebar's details: a tab with its error shown once.
    await batch.showSidebar();
    const details = await batch.openDetails('mon-fails');
    await details.locator('button.jp-Batch-OpenTab').click();
    const failedTab = page.locator(`.jp-Batch-JobTab:visible`);
    await expect(failedTab.locator('.jp-Batch-DetailsTitle')).toHaveText(
      'mon-fails'
    );
    await expect(failedTab.locator(sel.error)).toHaveCount(1);
    await expect(failedTab.locator(sel.error)).toContainText(
      'bad value for the test'
    );
  });
});
