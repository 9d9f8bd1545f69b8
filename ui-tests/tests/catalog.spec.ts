/**
 * "Run over catalog" in a real JupyterLab against the real proxy on the local backend and a real
 * HATS catalog (start-jupyter.sh puts it at catalogs/synthetic): from a cell defining
 * `process(df)`, the dialog plans the run before it starts, and the sidebar follows the
 * partitions to the end and previews the result's first rows.
 */
import { expect, test } from '@jupyterlab/galata';
import { Page } from '@playwright/test';
import {
  BatchHelper,
  CATALOG_CELL,
  catalogNotebook
} from './helpers/BatchHelper';
import { sel } from './helpers/selectors';

test.use({ autoGoto: true });

/** Drag the sidebar's edge to the right so the screenshot shows more of the preview's columns. */
async function widenSidebar(page: Page): Promise<void> {
  const handle = page
    .locator('#jp-main-split-panel > .lm-SplitPanel-handle:visible')
    .first();
  const box = await handle.boundingBox();
  if (!box) return; // only the screenshot is narrower
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(box.x + 260, y, { steps: 5 });
  await page.mouse.up();
}

test.describe('Run over catalog on the local backend', () => {
  test('from a cell: the plan, the partition progress and the preview of the result', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(
      tmpPath,
      'catalog-test.ipynb',
      catalogNotebook()
    );
    await page.notebook.selectCells(CATALOG_CELL.process);
    await (await page.notebook.getCellLocator(CATALOG_CELL.process))!.click({
      button: 'right'
    });
    await page
      .locator('.lm-Menu-item:visible', { hasText: 'Run over catalog' })
      .first()
      .click();

    const dialog = page.locator(sel.dialog);
    await expect(dialog).toBeVisible();
    const body = page.locator(sel.dialogBody);
    await expect(body.locator('select[name="function"]')).toHaveValue(
      'process'
    );
    await body.locator('input[name="name"]').fill('ui-catalog');
    await body.locator('input[name="catalogPath"]').fill('catalogs/synthetic');
    await body.locator('select[name="regionType"]').selectOption('cone');
    await body.locator('input[name="ra"]').fill('40');
    await body.locator('input[name="dec"]').fill('10');
    await body.locator('input[name="radiusArcsec"]').fill('3600');

    // The plan of the cone: some of the catalog's 10 partitions, their rows, and that it fits.
    const plan = body.locator(sel.plan);
    await expect(plan).toHaveAttribute('data-status', 'ok');
    await expect(plan.locator(sel.planLine)).toHaveText(
      /^\d+ of 10 partitions · [\d,]+ rows in those partitions · .+ · est\. .+ core-hours$/
    );
    await expect(plan).toHaveAttribute('data-fits', 'true');
    await expect(body.locator('input[data-column="flux"]')).toBeVisible();
    await page.screenshot({
      path: test.info().outputPath('catalog-dialog.png')
    });
    await batch.submitDialog();
    await expect(dialog).toHaveCount(0);

    await batch.showSidebar();
    await batch.waitForState('ui-catalog', 'succeeded', 180_000);
    const details = await batch.openDetails('ui-catalog');
    await expect(details.locator(sel.progress)).toHaveText(
      /^(\d+) of \1 partitions done$/
    );
    await expect(details.locator(sel.failedPartition)).toHaveCount(0);
    const preview = details.locator(sel.preview);
    await expect(preview.locator('th', { hasText: /^flux2$/ })).toBeVisible();
    expect(await preview.locator('tbody tr').count()).toBeGreaterThan(0);
    await widenSidebar(page);
    await page.screenshot({
      path: test.info().outputPath('catalog-sidebar.png')
    });
  });

  test('a partition that fails is named with its traceback, and the rest is previewed', async ({
    page,
    tmpPath
  }) => {
    const batch = new BatchHelper(page);
    await batch.openTestNotebook(
      tmpPath,
      'catalog-fail.ipynb',
      catalogNotebook()
    );
    await page.notebook.selectCells(CATALOG_CELL.fragile);
    // from the command palette this time
    await page.keyboard.press('Control+Shift+C');
    await page
      .locator('#command-palette .lm-CommandPalette-input')
      .fill('Run over catalog');
    await page.keyboard.press('Enter');
    const body = page.locator(sel.dialogBody);
    await expect(body.locator('select[name="function"]')).toHaveValue(
      'fragile'
    );
    await body.locator('input[name="name"]').fill('ui-catalog-fail');
    await body.locator('input[name="catalogPath"]').fill('catalogs/synthetic');
    await expect(body.locator(sel.plan)).toHaveAttribute('data-status', 'ok');
    await expect(body.locator(sel.planLine)).toContainText(
      '10 of 10 partitions'
    );
    await batch.submitDialog();
    await expect(page.locator(sel.dialog)).toHaveCount(0);

    await batch.showSidebar();
    await batch.waitForState('ui-catalog-fail', 'failed', 180_000);
    const details = await batch.openDetails('ui-catalog-fail');
    await expect(details.locator('.jp-Batch-StateReason')).toContainText(
      /partition Norder=\d+ Npix=\d+ failed/
    );
    await expect(details.locator(sel.progress)).toHaveText(
      /^\d+ of 10 partitions done, \d+ failed$/
    );
    const failed = details.locator(sel.failedPartition).first();
    await expect(failed).toContainText(
      /Norder=\d+ Npix=\d+: ValueError: no sources this far east/
    );
    await failed.locator('summary').click();
    await expect(failed.locator('.jp-Batch-Traceback')).toContainText(
      'ValueError: no sources this far east'
    );
    await expect(
      details.locator(`${sel.preview} tbody tr`).first()
    ).toBeVisible();
  });
});
