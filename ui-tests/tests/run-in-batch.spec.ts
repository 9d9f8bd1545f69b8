/**
 * What a scientist does with User Batch in a real JupyterLab, in Debian's Chromium, against the
 * real proxy on the local backend: run cells, watch them, read the log, open the executed
 * notebook, cancel, be refused over quota, see failures, reload and keep everything.
 */
import { expect, test } from '@jupyterlab/galata';
import {
  BatchHelper,
  CELL,
  relativePathNotebook,
  TAGGED_CELL,
  taggedNotebook
} from './helpers/BatchHelper';
import { sel } from './helpers/selectors';

test.use({ autoGoto: true });

test.describe('Run in batch on the local backend', () => {
  test('selected cell with setup and a parameter runs to success; log and executed notebook open', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.openRunCellsDialog(CELL.work);
    await expect(page.locator(sel.quotaSummary)).toContainText('concurrent');
    await batch.fillDialog({
      name: 'ui-cells',
      setup: 'above',
      parameters: 'threshold = 42'
    });
    await page.screenshot({
      path: test.info().outputPath('submit-dialog.png')
    });
    await batch.submitDialog();

    await batch.showSidebar();
    await batch.waitForState('ui-cells', 'succeeded');
    await expect(
      page.locator(sel.toast, { hasText: 'Batch job "ui-cells" succeeded' })
    ).toBeVisible();

    const details = await batch.openDetails('ui-cells');
    await expect(details.locator(sel.log)).toContainText(
      'hello from batch, threshold=42'
    );
    // the executed notebook says it is a batch result: batch-test.batch-<short id>.ipynb
    await expect(details.locator(sel.outputLink)).toContainText([
      /^batch-test\.batch-\w{8}\.ipynb$/
    ]);
    await expect(
      details.locator(sel.outputLink, { hasText: 'result.txt' })
    ).toHaveCount(1);
    await expect(details.locator(sel.provenance)).toContainText('sha256');
    await page.screenshot({
      path: test.info().outputPath('sidebar-succeeded.png')
    });

    await details.locator(sel.outputLink).first().click();
    const executed = page.locator(
      '.jp-NotebookPanel:visible .jp-OutputArea-output',
      {
        hasText: 'hello from batch, threshold=42'
      }
    );
    await expect(executed).toBeVisible();
  });

  test('the selected cell is what runs; the cells tagged "batch" only when no code cell is selected, or when chosen', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath, 'tagged.ipynb', taggedNotebook());
    const what = page.locator(`${sel.dialogBody} .jp-Batch-What`);
    const cellsFrom = page.locator(
      `${sel.dialogBody} select[name="cellsFrom"]`
    );

    // no code cell selected (the heading): the tagged cells, and the dialog says why
    await batch.openRunCellsDialog(TAGGED_CELL.intro);
    await expect(what).toHaveText(
      `No code cell is selected: runs the 2 cells tagged "batch" in ${tmpPath}/tagged.ipynb`
    );
    await expect(cellsFrom).toHaveCount(0);
    await page
      .locator(sel.dialog)
      .getByRole('button', { name: 'Cancel' })
      .click();

    // the tagged cells can still be chosen over a selected cell
    await batch.openRunCellsDialog(TAGGED_CELL.mine);
    await expect(what).toHaveText(
      `Runs the selected cell of ${tmpPath}/tagged.ipynb`
    );
    await cellsFrom.selectOption('tags');
    await expect(what).toHaveText(
      `Runs the 2 cells tagged "batch" in ${tmpPath}/tagged.ipynb`
    );
    await cellsFrom.selectOption('selection');

    // one untagged cell selected: it alone runs
    await batch.fillDialog({ name: 'ui-selected-cell', setup: 'none' });
    await batch.submitDialog();
    await batch.showSidebar();
    await batch.waitForState('ui-selected-cell', 'succeeded');
    const details = await batch.openDetails('ui-selected-cell');
    await expect(details.locator(sel.log)).toContainText(
      'only the selected cell'
    );
    await expect(details.locator(sel.log)).not.toContainText('tagged one');
    await expect(details.locator(sel.log)).not.toContainText('tagged two');
  });

  test('a notebook reads a file next to it by a relative path in batch, and what it writes is with the job', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await page.contents.createDirectory(`${tmpPath}/a`);
    await page.contents.createDirectory(`${tmpPath}/a/b`);
    await page.contents.uploadContent(
      'read from next to the notebook',
      'text',
      `${tmpPath}/a/b/data.txt`
    );
    await batch.openTestNotebook(
      tmpPath,
      'relative.ipynb',
      relativePathNotebook()
    );
    await batch.openRunCellsDialog(1);
    await batch.fillDialog({ name: 'ui-relative-path', setup: 'none' });
    await batch.submitDialog();
    await batch.showSidebar();
    await batch.waitForState('ui-relative-path', 'succeeded');
    const details = await batch.openDetails('ui-relative-path');
    await expect(details.locator(sel.log)).toContainText(
      'read from next to the notebook'
    );
    await expect(
      details.locator(sel.outputLink, { hasText: 'written.txt' })
    ).toHaveCount(1);
    // the folder next to the notebook was seen, not copied into the outputs
    await expect(
      details.locator(sel.outputLink, { hasText: 'data.txt' })
    ).toHaveCount(0);
  });

  test('the cell context menu and the command palette open the same dialog', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await page.notebook.selectCells(CELL.work);
    await (await page.notebook.getCellLocator(CELL.work))!.click({
      button: 'right'
    });
    await page
      .locator('.lm-Menu-item:visible', { hasText: 'Run in batch' })
      .first()
      .click();
    await expect(page.locator(sel.dialog)).toBeVisible();
    await page
      .locator(sel.dialog)
      .getByRole('button', { name: 'Cancel' })
      .click();
    await expect(page.locator(sel.dialog)).toHaveCount(0);

    await page.keyboard.press('Control+Shift+C');
    await page
      .locator('#command-palette .lm-CommandPalette-input')
      .fill('Run notebook in batch');
    await page.keyboard.press('Enter');
    await expect(page.locator(sel.dialog)).toBeVisible();
    await page
      .locator(sel.dialog)
      .getByRole('button', { name: 'Cancel' })
      .click();
  });

  test('a long job can be cancelled while its log streams', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.runCell(CELL.slow, { name: 'ui-slow', setup: 'none' });
    await batch.showSidebar();
    await batch.waitForState('ui-slow', 'running');
    const details = await batch.openDetails('ui-slow');
    await expect(details.locator(sel.log)).toContainText('tick 2');

    await details.locator(sel.cancel).click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await batch.waitForState('ui-slow', 'cancelled', 20_000);
    await expect(details.locator(sel.cancel)).toHaveCount(0);
  });

  test('a request over the memory quota is refused with the limit, and the input is kept', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.openRunCellsDialog(CELL.work);
    await batch.fillDialog({
      name: 'ui-too-big',
      setup: 'above',
      memoryMiB: 100000
    });
    await batch.submitDialog();

    const error = page.locator(`${sel.dialog} ${sel.submitError}`);
    await expect(error).toContainText(/memory/i);
    await expect(error).toContainText('4096');
    await expect(
      page.locator(`${sel.dialogBody} input[name="name"]`)
    ).toHaveValue('ui-too-big');
    await page.screenshot({ path: test.info().outputPath('over-quota.png') });
    await page
      .locator(sel.dialog)
      .getByRole('button', { name: 'Cancel' })
      .click();

    await batch.showSidebar();
    await expect(batch.jobRow('ui-too-big')).toHaveCount(0);
  });

  test('a failing cell shows the error, the traceback and which cell failed', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.runCell(CELL.broken, { name: 'ui-broken', setup: 'none' });
    await batch.showSidebar();
    await batch.waitForState('ui-broken', 'failed');
    await expect(
      page.locator(sel.toast, { hasText: 'Batch job "ui-broken" failed' })
    ).toBeVisible();
    const details = await batch.openDetails('ui-broken');
    const error = details.locator(sel.error);
    await expect(error).toContainText('ValueError');
    await expect(error).toContainText('bad value for the test');
    await expect(error).toContainText('broken');
  });

  test('after a page reload every job is still listed with its state', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(tmpPath);
    await batch.runCell(CELL.work, { name: 'ui-keep-1', setup: 'above' });
    await batch.runCell(CELL.broken, { name: 'ui-keep-2', setup: 'none' });
    await batch.showSidebar();
    await batch.waitForState('ui-keep-1', 'succeeded');
    await batch.waitForState('ui-keep-2', 'failed');

    // a plain browser reload (Galata's own waits for a launcher tab we do not have); saved
    // first so the browser does not ask whether to leave the page
    await page.notebook.save();
    await page.evaluate(() => window.location.reload());
    await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
    await batch.showSidebar();
    await expect(batch.jobRow('ui-keep-1')).toHaveAttribute(
      'data-state',
      'succeeded'
    );
    await expect(batch.jobRow('ui-keep-2')).toHaveAttribute(
      'data-state',
      'failed'
    );
    await expect(page.locator(sel.gauge('concurrentJobs'))).toContainText('/');
  });

  test('the whole demo notebook runs in batch and keeps its figure', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await page.contents.uploadFile(
      require.resolve('../../demo/Demo.ipynb'),
      `${tmpPath}/Demo.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/Demo.ipynb`);
    await page.notebook.activate('Demo.ipynb');
    await page.locator(sel.runNotebookButton).click();
    await expect(page.locator(sel.dialog)).toBeVisible();
    await batch.fillDialog({ name: 'ui-demo' });
    await batch.submitDialog();
    await batch.showSidebar();
    await batch.waitForState('ui-demo', 'succeeded', 120_000);
    const details = await batch.openDetails('ui-demo');
    await details.locator(sel.outputLink).first().click();
    await expect(
      page.locator('.jp-NotebookPanel:visible .jp-RenderedImage img').first()
    ).toBeVisible();
    // two tabs, never two "Demo.ipynb": the result's title says it is one
    await expect(
      page.locator('.lm-DockPanel-tabBar .lm-TabBar-tabLabel', {
        hasText: /^Demo\.batch-\w{8}\.ipynb$/
      })
    ).toHaveCount(1);
    await expect(
      page.locator('.lm-DockPanel-tabBar .lm-TabBar-tabLabel', {
        hasText: /^Demo\.ipynb$/
      })
    ).toHaveCount(1);
  });
});
