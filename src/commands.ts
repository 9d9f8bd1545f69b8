/**
 * The notebook commands: "Run in batch" and "Run notebook in batch".
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { batchIcon, batchNotebookIcon } from './icons';
import {
  defaultJobName,
  ICellInfo,
  IJobSource,
  selectMainCells,
  setupCandidates
} from './spec';
import { Batch, CommandIDs, IBatchModel, IBatchSettings } from './tokens';
import { initialValues, SubmitDialog } from './widgets/submit';

export interface INotebookCommandsOptions {
  app: JupyterFrontEnd;
  model: IBatchModel;
  tracker: INotebookTracker;
  settings: () => IBatchSettings;
}

export function addNotebookCommands(options: INotebookCommandsOptions): void {
  const { app, tracker } = options;
  const hasNotebook = () => tracker.currentWidget !== null;

  app.commands.addCommand(CommandIDs.runCells, {
    label: args => (args.toolbar ? '' : 'Run in batch'),
    caption:
      'Run the selected cells (or the cells tagged "batch") as a batch job',
    icon: batchIcon,
    isEnabled: hasNotebook,
    execute: () => openSubmitDialog(options, 'cells')
  });

  app.commands.addCommand(CommandIDs.runNotebook, {
    label: args => (args.toolbar ? '' : 'Run notebook in batch'),
    caption: 'Run the whole notebook as a batch job',
    icon: batchNotebookIcon,
    isEnabled: hasNotebook,
    execute: () => openSubmitDialog(options, 'notebook')
  });

  tracker.currentChanged.connect(() => {
    app.commands.notifyCommandChanged(CommandIDs.runCells);
    app.commands.notifyCommandChanged(CommandIDs.runNotebook);
  });
}

/**
 * Describe a notebook's cells for the spec builder.
 */
export function cellInfos(panel: NotebookPanel): ICellInfo[] {
  const cells: ICellInfo[] = [];
  const model = panel.content.model;
  if (!model) {
    return cells;
  }
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    const tags = cell.getMetadata('tags');
    cells.push({
      id: cell.id,
      type: cell.type,
      source: cell.sharedModel.getSource(),
      tags: Array.isArray(tags) ? tags.map(String) : []
    });
  }
  return cells;
}

function selectedIndices(panel: NotebookPanel): number[] {
  const notebook = panel.content;
  const indices: number[] = [];
  notebook.widgets.forEach((cell, index) => {
    if (notebook.isSelectedOrActive(cell)) {
      indices.push(index);
    }
  });
  return indices;
}

function kernelName(panel: NotebookPanel): string | undefined {
  const running = panel.sessionContext.session?.kernel?.name;
  if (running) {
    return running;
  }
  const spec = panel.content.model?.getMetadata('kernelspec') as
    { name?: string } | undefined;
  return spec?.name;
}

async function openSubmitDialog(
  options: INotebookCommandsOptions,
  kind: Batch.JobKind
): Promise<void> {
  const { app, model, tracker } = options;
  const panel = tracker.currentWidget;
  if (!panel || !panel.content.model) {
    return;
  }
  const notebookPath = panel.context.localPath;
  const source: IJobSource = {
    kind,
    notebookPath,
    kernelName: kernelName(panel)
  };
  if (kind === 'cells') {
    const cells = cellInfos(panel);
    const main = selectMainCells(cells, selectedIndices(panel)).cells;
    if (main.length === 0) {
      Notification.warning(
        'Select one or more code cells to run in batch, or tag cells "batch".',
        { autoClose: 5000 }
      );
      return;
    }
    source.main = main;
    source.setupCandidates = setupCandidates(cells, main);
  } else {
    source.notebook = panel.content.model.toJSON() as unknown as Record<
      string,
      unknown
    >;
  }

  // The lists fill in the dialog when they arrive; a failure shows there.
  model.refreshBackends().catch(() => undefined);
  model.refreshQuota().catch(() => undefined);

  const settings = options.settings();
  const initial = initialValues(
    defaultJobName(notebookPath, kind, source.main),
    settings
  );
  if (source.setupCandidates?.length) {
    // Cells usually need the imports and definitions above them.
    initial.setup = 'above';
  }
  const dialog = new SubmitDialog({
    title: kind === 'cells' ? 'Run in batch' : 'Run notebook in batch',
    model,
    source,
    initial,
    preferredBackend: settings.defaultBackend
  });
  const result = await dialog.launch();
  if (result.button.accept && dialog.job) {
    await app.commands.execute(CommandIDs.open, { jobId: dialog.job.id });
  }
}
