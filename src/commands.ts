/**
 * The notebook commands: "Run in batch", "Run notebook in batch" and "Run
 * over catalog".
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import {
  defaultCatalogJobName,
  definedFunctions,
  EMPTY_REGION,
  ICatalogValues
} from './catalog';
import { batchIcon, batchNotebookIcon } from './icons';
import { unhandledKind } from './kinds';
import {
  cellChoices,
  CellsFrom,
  defaultJobName,
  ICellInfo,
  IJobSource,
  setupCandidates
} from './spec';
import { CommandIDs, IBatchModel, IBatchSettings } from './tokens';
import { TranslationBundle } from './translation';
import { CatalogDialog } from './widgets/catalog';
import { initialValues, SubmitDialog } from './widgets/submit';

export interface INotebookCommandsOptions {
  app: JupyterFrontEnd;
  model: IBatchModel;
  tracker: INotebookTracker;
  settings: () => IBatchSettings;
  trans: TranslationBundle;
}

export function addNotebookCommands(options: INotebookCommandsOptions): void {
  const { app, tracker, trans } = options;
  const hasNotebook = () => tracker.currentWidget !== null;

  app.commands.addCommand(CommandIDs.runCells, {
    label: trans.__('Run in batch'),
    caption: trans.__(
      'Run the selected cells (or the cells tagged "batch") as a batch job'
    ),
    icon: batchIcon,
    isEnabled: hasNotebook,
    execute: () => openSubmitDialog(options, 'cells')
  });

  app.commands.addCommand(CommandIDs.runNotebook, {
    label: trans.__('Run notebook in batch'),
    caption: trans.__('Run the whole notebook as a batch job'),
    icon: batchNotebookIcon,
    isEnabled: hasNotebook,
    execute: () => openSubmitDialog(options, 'notebook')
  });

  app.commands.addCommand(CommandIDs.runCatalog, {
    label: trans.__('Run over catalog'),
    caption: trans.__(
      'Run the function the active cell defines over every partition of a HATS catalog'
    ),
    icon: batchIcon,
    isEnabled: () => activeFunctionCell(tracker) !== null,
    execute: () => openCatalogDialog(options)
  });

  const notify = () => {
    app.commands.notifyCommandChanged(CommandIDs.runCells);
    app.commands.notifyCommandChanged(CommandIDs.runNotebook);
    app.commands.notifyCommandChanged(CommandIDs.runCatalog);
  };
  tracker.currentChanged.connect(notify);
  tracker.activeCellChanged.connect(notify);
}

/**
 * The active cell when it is a code cell defining a top-level function.
 */
function activeFunctionCell(tracker: INotebookTracker): ICellInfo | null {
  const panel = tracker.currentWidget;
  const cell = tracker.activeCell;
  if (!panel || !cell || cell.model.type !== 'code') {
    return null;
  }
  const info = cellInfos(panel).find(c => c.id === cell.model.id);
  return info && definedFunctions(info.source).length ? info : null;
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
  kind: 'cells' | 'notebook'
): Promise<void> {
  const { app, model, tracker, trans } = options;
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
  let title: string;
  let cellsFrom: CellsFrom | undefined;
  switch (kind) {
    case 'cells': {
      title = trans.__('Run in batch');
      const choices = cellChoices(cellInfos(panel), selectedIndices(panel));
      const chosen = choices[choices.from];
      if (!chosen) {
        Notification.warning(
          trans.__(
            'Select one or more code cells to run in batch, or tag cells "batch".'
          ),
          { autoClose: 5000 }
        );
        return;
      }
      source.cellChoices = { selection: choices.selection, tags: choices.tags };
      source.main = chosen.main;
      source.setupCandidates = chosen.setupCandidates;
      cellsFrom = choices.from;
      break;
    }
    case 'notebook':
      title = trans.__('Run notebook in batch');
      source.notebook = panel.content.model.toJSON() as unknown as Record<
        string,
        unknown
      >;
      break;
    default:
      return unhandledKind(kind);
  }

  // The lists fill in the dialog when they arrive; a failure shows there.
  model.refreshBackends().catch(() => undefined);
  model.refreshQuota().catch(() => undefined);

  const settings = options.settings();
  const initial = initialValues(
    defaultJobName(notebookPath, kind, source.main, trans),
    settings
  );
  if (source.setupCandidates?.length) {
    // Cells usually need the imports and definitions above them.
    initial.setup = 'above';
  }
  initial.cellsFrom = cellsFrom;
  const dialog = new SubmitDialog({
    title,
    model,
    source,
    initial,
    preferredBackend: settings.defaultBackend,
    trans
  });
  const result = await dialog.launch();
  if (result.button.accept && dialog.job) {
    await app.commands.execute(CommandIDs.open, { jobId: dialog.job.id });
  }
}

async function openCatalogDialog(
  options: INotebookCommandsOptions
): Promise<void> {
  const { app, model, tracker, trans } = options;
  const panel = tracker.currentWidget;
  const cell = activeFunctionCell(tracker);
  if (!panel || !cell) {
    Notification.warning(
      trans.__(
        'Select a code cell that defines a function, e.g. "def process(df): ...", to run it over a catalog.'
      ),
      { autoClose: 5000 }
    );
    return;
  }
  const candidates = setupCandidates(cellInfos(panel), [cell]);
  model.refreshBackends().catch(() => undefined);
  model.refreshQuota().catch(() => undefined);

  const settings = options.settings();
  const functionName = definedFunctions(cell.source)[0];
  const initial: ICatalogValues = {
    ...initialValues('', settings),
    name: defaultCatalogJobName(functionName, settings.defaultCatalog, trans),
    functionName,
    catalogPath: settings.defaultCatalog,
    region: EMPTY_REGION,
    columns: '',
    // The function usually needs the imports above it.
    setup: candidates.length ? 'above' : 'none'
  };
  const dialog = new CatalogDialog({
    model,
    source: {
      notebookPath: panel.context.localPath,
      kernelName: kernelName(panel),
      cell,
      setupCandidates: candidates
    },
    initial,
    preferredBackend: settings.defaultBackend,
    trans
  });
  const result = await dialog.launch();
  if (result.button.accept && dialog.job) {
    await app.commands.execute(CommandIDs.open, { jobId: dialog.job.id });
  }
}
