/**
 * Run in batch on the htcondor backend: the dialog submits to the real HTCondor pool of
 * bin/condor-pool (bin/test starts it before the ui suite; start-jupyter.sh configures the
 * backend), and the sidebar follows the job to its end, or shows why HTCondor held it.
 */
import { expect, test } from '@jupyterlab/galata';
import { BatchHelper, CELL } from './helpers/BatchHelper';
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
    await expect(page.locator(`${sel.dialogBody} select[name="backend"] option`)).toHaveCount(3);
    await batch.fillDialog({ name: 'ui-condor', setup: 'above', parameters: 'threshold = 7', backend: 'htcondor' });
    await batch.submitDialog();
    await expect(page.locator(sel.dialog)).toHaveCount(0);

    await batch.showSidebar();
    await batch.waitForState('ui-condor', 'succeeded', 180_000);
    const details = await batch.openDetails('ui-condor');
    await expect(details).toContainText(/Backend\s*htcondor/);
    await expect(details.locator(sel.log)).toContainText('hello from batch, threshold=7');
    await expect(details.locator(sel.outputLink)).toContainText(['batch-test.ipynb']);
    await page.screenshot({ path: test.info().outputPath('htcondor-succeeded.png') });

    await details.locator(sel.outputLink, { hasText: 'batch-test.ipynb' }).click();
    const executed = page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output', {
      hasText: 'hello from batch, threshold=7'
    });
    await expect(executed).toBeVisible();
  });

  test('a job HTCondor holds shows the reason, Release and Remove job; Remove cancels it', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(180_000);
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    // the site's second htcondor backend names a python that does not exist: HTCondor holds the job
    await batch.runCell(CELL.work, { name: 'ui-condor-held', setup: 'above', backend: 'htcondor-broken' });
    await batch.showSidebar();
    await batch.waitForState('ui-condor-held', 'held', 120_000);
    const details = await batch.openDetails('ui-condor-held');
    await expect(details.locator('.jp-Batch-StateReason')).toContainText('nonexistent/python3');
    await expect(details.locator('.jp-Batch-Release')).toBeVisible();
    await expect(details.locator(sel.cancel)).toHaveText('Remove job');
    await page.screenshot({ path: test.info().outputPath('htcondor-held.png') });

    await details.locator(sel.cancel).click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await batch.waitForState('ui-condor-held', 'cancelled', 30_000);
    await expect(details.locator('.jp-Batch-Release')).toHaveCount(0);
  });
});
