/**
 * "Run pipeline in batch" in a real JupyterLab against the real proxy, the real LSST middleware
 * and a real butler repo on the local backend (start-jupyter.sh puts the demo pipeline at
 * pipelines/add.yaml and a repo with 10 detectors at butler-repo): the dialog shows the quantum
 * graph the proxy built before anything runs, a bad query is refused there with a sentence, and
 * the sidebar follows the quanta per task label to the end and lists the output datasets.
 */
import { expect, test } from '@jupyterlab/galata';
import { BatchHelper } from './helpers/BatchHelper';
import { sel } from './helpers/selectors';

test.use({ autoGoto: true });

const PIPELINE = 'pipelines/add.yaml';

test.describe('Run pipeline in batch on the local backend', () => {
  test('from the pipeline file: the graph before the run, a bad query refused, quanta per label and the outputs after', async ({
    page
  }) => {
    await page.filebrowser.open(PIPELINE, 'Editor');
    await expect(page.locator('.jp-FileEditor:visible')).toContainText(
      'tasks:'
    );
    await page
      .locator(
        `.jp-Toolbar [data-jp-item-name="${sel.runPipelineItem}"]:visible`
      )
      .click();
    const dialog = page.locator(sel.dialog);
    await expect(dialog).toBeVisible();
    const body = page.locator(sel.dialogBody);
    await expect(body.locator('input[name="name"]')).toHaveValue('add');
    await expect(body.locator('input[name="butlerRepo"]')).toHaveValue(
      'butler-repo'
    );
    await expect(body.locator('input[name="inputCollections"]')).toHaveValue(
      'demo/raw'
    );
    const plan = body.locator(sel.plan);
    const submit = dialog.getByRole('button', { name: 'Submit' });
    // The whole repo: 10 detectors, two labels.
    await expect(body.locator(sel.planLine)).toHaveText(
      /^20 quanta: addA 10, addB 10 · est\. (<0\.01|[0-9.]+) core-hours$/,
      { timeout: 90_000 }
    );
    await expect(body.locator('.jp-Batch-PlanOutput')).toContainText(
      'Writes run u/scientist/add/'
    );

    // A query the butler cannot read: the planner's sentence, Submit stays disabled.
    await body.locator('input[name="dataQuery"]').fill('detector IN (0, 1');
    await expect(plan).toHaveAttribute('data-status', 'stale');
    await expect(submit).toBeDisabled();
    await body.locator(sel.buildGraph).click();
    await expect(plan).toHaveAttribute('data-status', 'error', {
      timeout: 90_000
    });
    await expect(plan).toContainText('query');
    await expect(submit).toBeDisabled();

    // Three detectors and an override: the graph shown is the one that runs.
    await body
      .locator('input[name="dataQuery"]')
      .fill("instrument='DEMO' AND detector IN (0, 1, 2)");
    await body.locator('textarea[name="overrides"]').fill('addA:addend=100');
    await body.locator(sel.buildGraph).click();
    await expect(body.locator(sel.planLine)).toHaveText(
      /^6 quanta: addA 3, addB 3 · /,
      { timeout: 90_000 }
    );
    await expect(submit).toBeEnabled();
    await plan.scrollIntoViewIfNeeded();
    await page.screenshot({
      path: test.info().outputPath('pipeline-dialog.png')
    });
    await submit.click();
    await expect(dialog).toHaveCount(0);

    const batch = new BatchHelper(page);
    await batch.showSidebar();
    await batch.waitForState('add', 'succeeded');
    const details = await batch.openDetails('add');
    await expect(details.locator(sel.progress)).toHaveText(
      '6 of 6 quanta done'
    );
    for (const label of ['addA', 'addB']) {
      const row = details.locator(
        `${sel.pipelineProgress} tr[data-label="${label}"]`
      );
      await expect(row.locator('[data-count="succeeded"]')).toHaveText('3');
      await expect(row.locator('[data-count="quanta"]')).toHaveText('3');
    }
    await expect(details.locator(sel.datasetCounts)).toContainText(
      'demo_a: 3 datasets'
    );
    await expect(details.locator(sel.datasetCounts)).toContainText(
      'demo_b: 3 datasets'
    );
    await page.screenshot({
      path: test.info().outputPath('pipeline-sidebar.png')
    });
  });

  test('a failing quantum: its data ID and exception, and the quantum after it blocked', async ({
    page
  }) => {
    await page.filebrowser.open(PIPELINE, 'Editor');
    await page
      .locator(
        `.jp-Toolbar [data-jp-item-name="${sel.runPipelineItem}"]:visible`
      )
      .click();
    const dialog = page.locator(sel.dialog);
    const body = page.locator(sel.dialogBody);
    await body.locator('input[name="name"]').fill('add-fails');
    await body
      .locator('input[name="dataQuery"]')
      .fill("instrument='DEMO' AND detector IN (1, 2)");
    await body
      .locator('textarea[name="overrides"]')
      .fill('addA:failOnDetectors=[2]');
    await body.locator(sel.buildGraph).click();
    await expect(body.locator(sel.planLine)).toHaveText(
      /^4 quanta: addA 2, addB 2 · /,
      { timeout: 90_000 }
    );
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect(dialog).toHaveCount(0);

    const batch = new BatchHelper(page);
    await batch.showSidebar();
    await batch.waitForState('add-fails', 'failed');
    const details = await batch.openDetails('add-fails');
    const failed = details.locator(sel.failedQuantum);
    await expect(failed).toHaveCount(1);
    await expect(failed).toHaveAttribute('data-label', 'addA');
    await expect(failed.locator('summary')).toContainText('detector: 2');
    const addB = details.locator(
      `${sel.pipelineProgress} tr[data-label="addB"]`
    );
    await expect(addB.locator('[data-count="blocked"]')).toHaveText('1');
    await expect(addB.locator('[data-count="succeeded"]')).toHaveText('1');
  });
});
