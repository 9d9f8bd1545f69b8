/**
 * "Run pipeline in batch": an LSST pipeline YAML (it has `tasks:`), from the
 * file editor (its current text) or the file browser, or a standard pipeline
 * of the site from the command palette.
 */
import { Notification } from '@jupyterlab/apputils';

import {
  editorFile,
  IFileCommandsOptions,
  IFileTarget,
  selectedFile
} from './fileTarget';
import { batchIcon } from './icons';
import {
  defaultPipelineJobName,
  IPipelineValues,
  isConfigOverrideFile,
  isYamlFile,
  pipelineFileKind,
  valuesFromBpsYaml,
  valuesFromConfigFile
} from './pipeline';
import { Batch, CommandIDs, IBatchSettings } from './tokens';
import { PipelineDialog } from './widgets/pipeline';
import { initialValues } from './widgets/submit';

export type IPipelineCommandsOptions = IFileCommandsOptions;

export function addPipelineCommands(options: IPipelineCommandsOptions): void {
  const { app, trans } = options;
  const target = (args: Record<string, unknown>) =>
    args.fileBrowser === true
      ? selectedFile(app, options.fileBrowser, isYamlFile)
      : editorYaml(app.shell.currentWidget);
  app.commands.addCommand(CommandIDs.runPipeline, {
    label: trans.__('Run pipeline in batch'),
    caption: trans.__(
      'Run this LSST pipeline over a butler repository as a batch job'
    ),
    icon: batchIcon,
    // Toolbars and menus show it on the files it can start from; the palette always (standard pipelines).
    isVisible: args =>
      args.toolbar || args.fileBrowser || args.editor
        ? target(args) !== null
        : true,
    execute: args => openPipelineDialog(options, target(args))
  });
}

/**
 * The YAML file, or the config override file (Python setting `config.…`),
 * open in the file editor, with its unsaved edits.
 */
export function editorYaml(widget: unknown): IFileTarget | null {
  return editorFile(
    widget,
    (path, text) => isYamlFile(path) || isConfigOverrideFile(path, text())
  );
}

/** The dialog's first values: the file (or the first standard pipeline) and the user's defaults. */
export function initialPipelineValues(
  /** The pipeline file, or null to start from a standard pipeline. */
  path: string | null,
  standard: ReadonlyArray<Batch.IStandardPipeline>,
  settings: IBatchSettings
): IPipelineValues {
  const first = path === null ? standard[0] : undefined;
  const base = initialValues(
    defaultPipelineJobName(path ?? first?.name ?? 'pipeline'),
    settings
  );
  return {
    name: base.name,
    cpus: base.cpus,
    memoryMiB: base.memoryMiB,
    walltimeMinutes: base.walltimeMinutes,
    backend: base.backend,
    account: base.account,
    workersMode: base.workersMode,
    workers: base.workers,
    minWorkers: base.minWorkers,
    maxWorkers: base.maxWorkers,
    standard: first?.name ?? '',
    pipelineFile: path ?? '',
    butlerRepo: settings.defaultButlerRepo,
    inputCollections:
      first?.inputCollections?.join(', ') ?? settings.defaultInputCollections,
    outputCollection: '',
    dataQuery: first?.dataQuery ?? '',
    labels: '',
    overrides: '',
    configFiles: ''
  };
}

async function openPipelineDialog(
  options: IPipelineCommandsOptions,
  target: IFileTarget | null
): Promise<void> {
  const { app, model, trans } = options;
  model.refreshBackends().catch(() => undefined);
  model.refreshQuota().catch(() => undefined);
  const standard = await model.standardPipelines().catch(() => []);
  const settings = options.settings();
  let initial: IPipelineValues;
  if (target) {
    let text: string;
    try {
      text = await target.read();
    } catch (reason) {
      Notification.error(
        trans.__(
          'Could not read %1: %2. Open it in the editor and run it from there.',
          target.path,
          reason instanceof Error ? reason.message : String(reason)
        ),
        { autoClose: 10000 }
      );
      return;
    }
    const kind = pipelineFileKind(target.path, text);
    switch (kind) {
      case 'pipeline':
        initial = initialPipelineValues(target.path, standard, settings);
        break;
      case 'bps': {
        const { values, notes } = valuesFromBpsYaml(target.path, text, trans);
        initial = {
          ...initialPipelineValues(null, standard, settings),
          name: defaultPipelineJobName(target.path),
          ...values
        };
        if (notes.length) {
          Notification.warning(notes.join(' '), { autoClose: 10000 });
        }
        break;
      }
      case 'config':
        initial = {
          ...initialPipelineValues(null, standard, settings),
          name: defaultPipelineJobName(target.path.replace(/\.py$/i, '.yaml')),
          ...valuesFromConfigFile(target.path)
        };
        break;
      case null:
        Notification.warning(
          trans.__(
            '%1 is not a pipeline: a pipeline YAML has a "tasks:" section naming each task label and its class (a BPS submit YAML names its pipelineYaml and payload).',
            target.path
          ),
          { autoClose: 8000 }
        );
        return;
    }
  } else if (standard.length) {
    initial = initialPipelineValues(null, standard, settings);
  } else {
    Notification.warning(
      trans.__(
        'Open a pipeline YAML in the editor, or select one in the file browser, to run it in batch; this site lists no standard pipelines.'
      ),
      { autoClose: 8000 }
    );
    return;
  }
  const dialog = new PipelineDialog({
    model,
    source: { path: target?.path ?? '' },
    initial,
    preferredBackend: settings.defaultBackend,
    standard,
    trans
  });
  const result = await dialog.launch();
  if (result.button.accept && dialog.job) {
    await app.commands.execute(CommandIDs.open, { jobId: dialog.job.id });
  }
}
