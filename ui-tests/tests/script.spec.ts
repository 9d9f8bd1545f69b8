/**
 * "Run script in batch" in a real JupyterLab against the real proxy on the local backend: a
 * Python file open in the editor runs as `python fit.py` would, with the editor's text (unsaved
 * edits included) and a parameter; its print reaches the log and its file the outputs. The file
 * browser's context menu and the palette open the same dialog.
 */
import { expect, test } from '@jupyterlab/galata';
import { BatchHelper } from './helpers/BatchHelper';
import { sel } from './helpers/selectors';

test.use({ autoGoto: true });

/** Prints, and writes a file where the job's outputs are collected. */
const FIT_PY = [
  'import os',
  'import sys',
  '',
  'print(f"fitting {os.path.basename(__file__)} with threshold={threshold}")',
  'with open(os.path.join(os.environ["BATCH_OUTPUT_DIR"], "fit.txt"), "w") as out:',
  '    out.write(f"fitted {len(sys.argv)}\\n")',
  ''
].join('\n');

test.describe('Run script in batch on the local backend', () => {
  test('a Python file from the editor toolbar runs to success; its print is in the log', async ({
    page,
    tmpPath
  }) => {
    const path = `${tmpPath}/fit.py`;
    await page.contents.uploadContent(FIT_PY, 'text', path);
    await page.filebrowser.open(path, 'Editor');
    const editor = page.locator('.jp-FileEditor:visible');
    await expect(editor).toContainText('fitting');
    // An edit not saved yet: the job must run the text as the editor has it.
    await page.evaluate(() => {
      // the current widget is the script's document widget (only the part used here is typed)
      const widget = window.jupyterapp.shell.currentWidget as unknown as {
        context: {
          model: {
            sharedModel: {
              getSource(): string;
              setSource(source: string): void;
            };
          };
        };
      };
      const model = widget.context.model.sharedModel;
      model.setSource(model.getSource() + 'print("an unsaved edit")\n');
    });
    await expect(editor).toContainText('an unsaved edit');

    await page
      .locator(`.jp-Toolbar [data-jp-item-name="${sel.runScriptItem}"]:visible`)
      .click();
    const dialog = page.locator(sel.dialog);
    await expect(dialog).toBeVisible();
    const body = page.locator(sel.dialogBody);
    await expect(body.locator('input[name="name"]')).toHaveValue('fit');
    await expect(body).toContainText(`Runs the Python script ${path}`);
    await expect(body.locator('select[name="setup"]')).toHaveCount(0);
    await expect(body.locator('select[name="workersMode"]')).toHaveCount(0);
    await body.locator('textarea[name="parameters"]').fill('threshold = 3');
    await page.screenshot({
      path: test.info().outputPath('script-dialog.png')
    });
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect(dialog).toHaveCount(0);

    const batch = new BatchHelper(page);
    await batch.showSidebar();
    await batch.waitForState('fit', 'succeeded');
    const details = await batch.openDetails('fit');
    await expect(details.locator(sel.log)).toContainText(
      'fitting fit.py with threshold=3'
    );
    await expect(details.locator(sel.log)).toContainText('an unsaved edit');
    await expect(
      details.locator(sel.outputLink, { hasText: 'fit.txt' })
    ).toHaveCount(1);
    await expect(
      details.locator(sel.outputLink, { hasText: /^fit\.batch-\w{8}\.ipynb$/ })
    ).toHaveCount(1);
    await page.screenshot({
      path: test.info().outputPath('script-succeeded.png')
    });
  });

  test('the file browser context menu and the palette open the same dialog', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(FIT_PY, 'text', `${tmpPath}/fit.py`);
    await page.filebrowser.openDirectory(tmpPath);
    await page
      .locator('.jp-DirListing-item[data-file-type="python"]', {
        hasText: 'fit.py'
      })
      .click({
        button: 'right'
      });
    await page
      .locator('.lm-Menu-item:visible', { hasText: 'Run script in batch' })
      .click();
    const dialog = page.locator(sel.dialog);
    await expect(dialog).toBeVisible();
    await expect(
      page.locator(sel.dialogBody).locator('input[name="name"]')
    ).toHaveValue('fit');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);

    await page.filebrowser.open(`${tmpPath}/fit.py`, 'Editor');
    await expect(page.locator('.jp-FileEditor:visible')).toContainText(
      'fitting'
    );
    await page.keyboard.press('Control+Shift+C');
    await page
      .locator('#command-palette .lm-CommandPalette-input')
      .fill('Run script in batch');
    await page.keyboard.press('Enter');
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });
});
