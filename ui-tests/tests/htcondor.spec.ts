/**
 * Run in batch on the htcondor backend: the dialog submits to the real HTCondor pool of
 * bin/condor-pool (bin/test starts it before the ui suite; start-jupyter.sh configures the
 * backend), and the sidebar follows the job to its end, or shows why HTCondor held it.
 */
import { expect, test } from '@jupyterlab/galata';
import {
  BatchHelper,
  CELL,
  SWEEP_CELL,
  sweepNotebook
} from './helpers/BatchHelper';
import { sel } from './helpers/selectors';

test.use({ autoGoto: true });

test.describe('Run in batch on the htcondor backend', () => {
  test('a cell submitted to HTCondor from the dialog runs to success; log and executed notebook open', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(240_000);
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.openRunCellsDialog(CELL.work);
    await expect(
      page.locator(`${sel.dialogBody} select[name="backend"] option`)
    ).toHaveCount(3);
    await batch.fillDialog({
      name: 'ui-condor',
      setup: 'above',
      parameters: 'threshold = 7',
      backend: 'htcondor'
    });
    await batch.submitDialog();
    await expect(page.locator(sel.dialog)).toHaveCount(0);

    await batch.showSidebar();
    await batch.waitForState('ui-condor', 'succeeded', 180_000);
    const details = await batch.openDetails('ui-condor');
    await expect(details).toContainText(/Backend\s*htcondor/);
    await expect(details.locator(sel.log)).toContainText(
      'hello from batch, threshold=7'
    );
    // HTCondor's own events for the job, folded under its log
    await details
      .locator('.jp-Batch-BatchSystemLog summary', {
        hasText: 'HTCondor events'
      })
      .click();
    await expect(details.locator('.jp-Batch-SystemLogText')).toContainText(
      /Job submitted from host[\s\S]*Job executing on host[\s\S]*Job terminated/
    );
    await expect(details.locator(sel.outputLink)).toContainText([
      /^batch-test\.batch-\w{8}\.ipynb$/
    ]);
    await page.screenshot({
      path: test.info().outputPath('htcondor-succeeded.png')
    });

    await details
      .locator(sel.outputLink, { hasText: /^batch-test\.batch-\w{8}\.ipynb$/ })
      .click();
    const executed = page.locator(
      '.jp-NotebookPanel:visible .jp-OutputArea-output',
      {
        hasText: 'hello from batch, threshold=7'
      }
    );
    await expect(executed).toBeVisible();
  });

  test('a sweep of three runs is one HTCondor cluster: three item squares end done, and item 2 shows its own log', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(300_000);
    // tall enough that the dialog's screenshot shows the quota line without scrolling
    await page.setViewportSize({ width: 1024, height: 960 });
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath, 'sweep-test.ipynb', sweepNotebook());
    await batch.openRunCellsDialog(SWEEP_CELL.work);
    await batch.fillDialog({
      name: 'ui-condor-sweep',
      setup: 'above',
      backend: 'htcondor',
      sweep: 'n = [1, 2, 3]'
    });
    // HTCondor runs the items side by side: the quota line counts their cores together
    await expect(page.locator(sel.sweepSummary)).toHaveText(
      '→ 3 runs, all at once: 3 × 1 CPU = 3 cores'
    );
    await expect(page.locator(sel.quotaSummary)).toContainText(
      'est. 3 core-hours'
    );
    await page
      .locator('.jp-Dialog-content')
      .screenshot({ path: test.info().outputPath('sweep-dialog.png') });
    await batch.submitDialog();
    await expect(page.locator(sel.dialog)).toHaveCount(0);

    await batch.showSidebar();
    const details = await batch.openDetails('ui-condor-sweep');
    const squares = details.locator(sel.sweepItem);
    await expect(squares).toHaveCount(3, { timeout: 120_000 });
    await batch.waitForState('ui-condor-sweep', 'succeeded', 240_000);
    for (const item of [0, 1, 2]) {
      await expect(
        details.locator(`${sel.sweepItem}[data-item="${item}"]`)
      ).toHaveAttribute('data-state', 'd');
    }
    await expect(details.locator(sel.sweepCounts)).toHaveText(
      '3 done · 0 failed · 0 running · 0 waiting of 3'
    );

    // items count from 0, as the API and the item-K output folders do: item 2 ran n = 3
    await details.locator(`${sel.sweepItem}[data-item="2"]`).click();
    await expect(details.locator(sel.logTitle)).toHaveText('Log — item 2');
    await expect(details.locator(sel.log)).toContainText('sweep run n=3');
    await expect(details.locator(sel.log)).not.toContainText('sweep run n=1');
    await expect(
      details.locator(`${sel.sweepItem}[data-item="2"]`)
    ).toHaveClass(/jp-mod-selected/);
    // the sidebar from the job list down to the end of the log: the grid, its counts and the item's log
    const top = (await page
      .locator(`${sel.sidebar} ${sel.jobItem}`)
      .first()
      .boundingBox())!;
    const bottom = (await details.locator(sel.log).boundingBox())!;
    const side = (await page.locator(sel.sidebar).boundingBox())!;
    await page.screenshot({
      path: test.info().outputPath('sweep-sidebar.png'),
      clip: {
        x: side.x,
        y: top.y - 8,
        width: side.width,
        height: bottom.y + bottom.height - top.y + 16
      }
    });
  });

  test('a job HTCondor holds shows the reason, Release and Remove job; Remove cancels it', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(180_000);
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    // the site's second htcondor backend names a python that does not exist: HTCondor holds the job
    await batch.runCell(CELL.work, {
      name: 'ui-condor-held',
      setup: 'above',
      backend: 'htcondor-broken'
    });
    await batch.showSidebar();
    await batch.waitForState('ui-condor-held', 'held', 120_000);
    const details = await batch.openDetails('ui-condor-held');
    await expect(details.locator('.jp-Batch-StateReason')).toContainText(
      'nonexistent/python3'
    );
    await expect(details.locator('.jp-Batch-Release')).toBeVisible();
    await expect(details.locator(sel.cancel)).toHaveText('Remove job');
    await page.screenshot({
      path: test.info().outputPath('htcondor-held.png')
    });

    await details.locator(sel.cancel).click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await batch.waitForState('ui-condor-held', 'cancelled', 30_000);
    await expect(details.locator('.jp-Batch-Release')).toHaveCount(0);
  });
});
