/**
 * Page object for User Batch: opens notebooks made for a test, drives the submit dialog and
 * reads the Batch sidebar, so the specs read as what a scientist does.
 */
import { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { expect, Locator } from '@playwright/test';
import { sel } from './selectors';

export interface IDialogValues {
  name?: string;
  setup?: 'none' | 'above' | 'chosen';
  parameters?: string;
  /** the Sweep textarea: lists of values, one run per combination */
  sweep?: string;
  cpus?: number;
  memoryMiB?: number;
  walltimeMinutes?: number;
  /** a backend name from the site config, e.g. `htcondor` (the dialog starts on the default) */
  backend?: string;
}

/** A small notebook whose cells each exercise one path a user takes. */
export function testNotebook(): string {
  const code = (id: string, source: string, tags: string[] = []) => ({
    cell_type: 'code',
    id,
    metadata: { tags },
    execution_count: null,
    outputs: [],
    source
  });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    cells: [
      {
        cell_type: 'markdown',
        id: 'intro',
        metadata: {},
        source: '# UI test notebook'
      },
      code('setup', 'import os\nGREETING = "hello"\nthreshold = 1'),
      code(
        'work',
        'print(f"{GREETING} from batch, threshold={threshold}")\n' +
          'with open(os.path.join(os.environ["BATCH_OUTPUT_DIR"], "result.txt"), "w") as f:\n' +
          '    f.write("done")'
      ),
      code(
        'slow',
        'import time\nfor i in range(600):\n    print("tick", i, flush=True)\n    time.sleep(1)'
      ),
      code('broken', 'raise ValueError("bad value for the test")')
    ]
  });
}

export const CELL = { setup: 1, work: 2, slow: 3, broken: 4 };

/** Two cells tagged "batch" and an untagged one between them (the selection rule). */
export function taggedNotebook(): string {
  const notebook = JSON.parse(testNotebook());
  const code = (id: string, source: string, tags: string[] = []) => ({
    cell_type: 'code',
    id,
    metadata: { tags },
    execution_count: null,
    outputs: [],
    source
  });
  notebook.cells = [
    notebook.cells[0],
    code('first', 'print("tagged one")', ['batch']),
    code('mine', 'print("only the selected cell")'),
    code('second', 'print("tagged two")', ['batch'])
  ];
  return JSON.stringify(notebook);
}

export const TAGGED_CELL = { intro: 0, first: 1, mine: 2, second: 3 };

/** A notebook whose cell reads a file next to it by a relative path and writes one. */
export function relativePathNotebook(): string {
  const notebook = JSON.parse(testNotebook());
  notebook.cells = [
    notebook.cells[0],
    {
      cell_type: 'code',
      id: 'relative',
      metadata: {},
      execution_count: null,
      outputs: [],
      source:
        'print(open("a/b/data.txt").read())\n' +
        'open("written.txt", "w").write("by the job")'
    }
  ];
  return JSON.stringify(notebook);
}

/** A notebook for sweeps: a setup cell and one cell that prints and writes its `n`. */
export function sweepNotebook(): string {
  const notebook = JSON.parse(testNotebook());
  notebook.cells = [
    notebook.cells[0],
    { ...notebook.cells[1], id: 'setup', source: 'import os\nn = 0' },
    {
      ...notebook.cells[2],
      id: 'work',
      source:
        'print(f"sweep run n={n}", flush=True)\n' +
        'with open(os.path.join(os.environ["BATCH_OUTPUT_DIR"], "result.txt"), "w") as f:\n' +
        '    f.write(str(n))'
    }
  ];
  return JSON.stringify(notebook);
}

export const SWEEP_CELL = { setup: 1, work: 2 };

/** A notebook whose cell defines a function over a catalog partition, for "Run over catalog". */
export function catalogNotebook(): string {
  const notebook = JSON.parse(testNotebook());
  notebook.cells = [
    notebook.cells[0],
    {
      ...notebook.cells[1],
      id: 'process',
      source:
        'def process(df):\n' +
        '    out = df[df["mag"] < 21].copy()\n' +
        '    out["flux2"] = out["flux"] * 2\n' +
        '    return out'
    },
    {
      ...notebook.cells[1],
      id: 'fragile',
      // fails on the partitions of the clump at ra 320 (its rows span ra 303-337), not the others
      source:
        'def fragile(df):\n' +
        '    if df["ra"].min() > 300:\n' +
        '        raise ValueError("no sources this far east")\n' +
        '    return df'
    }
  ];
  return JSON.stringify(notebook);
}

export const CATALOG_CELL = { process: 1, fragile: 2 };

export class BatchHelper {
  constructor(readonly page: IJupyterLabPageFixture) {}

  async openTestNotebook(
    dir: string,
    name = 'batch-test.ipynb',
    content = testNotebook()
  ): Promise<void> {
    const path = `${dir}/${name}`;
    await this.page.contents.uploadContent(content, 'text', path);
    await this.page.notebook.openByPath(path);
    await this.page.notebook.activate(name);
  }

  /** Selects one cell and opens the "Run in batch" dialog from the notebook toolbar. */
  async openRunCellsDialog(cellIndex: number): Promise<Locator> {
    await this.page.notebook.selectCells(cellIndex);
    await this.page.locator(sel.runCellsButton).click();
    const dialog = this.page.locator(sel.dialog);
    await expect(dialog).toBeVisible();
    return dialog;
  }

  async fillDialog(values: IDialogValues): Promise<void> {
    const body = this.page.locator(sel.dialogBody);
    if (values.name !== undefined)
      await body.locator('input[name="name"]').fill(values.name);
    if (values.setup)
      await body.locator('select[name="setup"]').selectOption(values.setup);
    if (values.backend)
      await body.locator('select[name="backend"]').selectOption(values.backend);
    if (values.parameters !== undefined) {
      await body.locator('textarea[name="parameters"]').fill(values.parameters);
    }
    if (values.sweep !== undefined)
      await body.locator('textarea[name="sweep"]').fill(values.sweep);
    for (const field of ['cpus', 'memoryMiB', 'walltimeMinutes'] as const) {
      const value = values[field];
      if (value !== undefined)
        await body.locator(`input[name="${field}"]`).fill(String(value));
    }
  }

  async submitDialog(): Promise<void> {
    await this.page
      .locator(sel.dialog)
      .getByRole('button', { name: 'Submit' })
      .click();
  }

  /** Runs one cell in batch with the given dialog values and returns its row in the sidebar. */
  async runCell(cellIndex: number, values: IDialogValues): Promise<Locator> {
    await this.openRunCellsDialog(cellIndex);
    await this.fillDialog(values);
    await this.submitDialog();
    await expect(this.page.locator(sel.dialog)).toHaveCount(0);
    return this.jobRow(values.name!);
  }

  jobRow(name: string): Locator {
    return this.page.locator(`${sel.sidebar} ${sel.jobItem}`).filter({
      has: this.page.locator(sel.jobName, {
        hasText: new RegExp(`^${name}$`)
      })
    });
  }

  async waitForState(
    name: string,
    state: string,
    timeout = 90_000
  ): Promise<void> {
    await expect(this.jobRow(name)).toHaveAttribute('data-state', state, {
      timeout
    });
  }

  async openDetails(name: string): Promise<Locator> {
    await this.jobRow(name).click();
    const details = this.page.locator(`${sel.sidebar} ${sel.details}`);
    await expect(details).toBeVisible();
    return details;
  }

  async showSidebar(): Promise<void> {
    // the command only ever opens the panel (a click on the current tab would collapse it), and
    // waiting for the restored layout keeps it from racing with a page that is still loading
    await this.page.waitForFunction(() => !!window.jupyterapp);
    await this.page.evaluate(async () => {
      await window.jupyterapp.restored;
      await window.jupyterapp.commands.execute('user-batch:open');
    });
    await expect(this.page.locator(sel.sidebar)).toBeVisible();
  }
}
