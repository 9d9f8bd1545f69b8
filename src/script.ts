/**
 * "Run script in batch": a Python file, from the file editor (its current
 * text, saved or not) or from the file browser (the file as stored), runs as
 * `python file.py` would, through the same submit dialog as cells.
 */
import { Notification } from '@jupyterlab/apputils';

import {
  editorFile,
  IFileCommandsOptions,
  IFileTarget,
  selectedFile
} from './fileTarget';
import { batchIcon } from './icons';
import { defaultJobName, isPythonFile, scriptJobSource } from './spec';
import { CommandIDs } from './tokens';
import { initialValues, SubmitDialog } from './widgets/submit';

export type IScriptCommandsOptions = IFileCommandsOptions;

export function addScriptCommands(options: IScriptCommandsOptions): void {
  const { app, trans } = options;
  // The file browser's context menu passes `fileBrowser: true`; everywhere
  // else (editor toolbar and context menu, palette) the current editor runs.
  const target = (args: Record<string, unknown>) =>
    args.fileBrowser === true
      ? selectedFile(app, options.fileBrowser, isPythonFile)
      : editorScript(app.shell.currentWidget);
  app.commands.addCommand(CommandIDs.runScript, {
    label: trans.__('Run script in batch'),
    caption: trans.__(
      'Run this Python file as a batch job, as "python file.py" would'
    ),
    icon: batchIcon,
    // The editor toolbar is shared by every text file: show it for Python only.
    isVisible: args => target(args) !== null,
    isEnabled: args => target(args) !== null,
    execute: args => openScriptDialog(options, target(args))
  });
}

/** The Python file open in a document widget (the file editor), with its unsaved edits. */
export function editorScript(widget: unknown): IFileTarget | null {
  return editorFile(widget, isPythonFile);
}

async function openScriptDialog(
  options: IScriptCommandsOptions,
  target: IFileTarget | null
): Promise<void> {
  const { app, model, trans } = options;
  if (!target) {
    Notification.warning(
      trans.__(
        'Open a Python (.py) file in the editor, or select one in the file browser, to run it in batch.'
      ),
      { autoClose: 5000 }
    );
    return;
  }
  let content: string;
  try {
    content = await target.read();
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
  // The lists fill in the dialog when they arrive; a failure shows there.
  model.refreshBackends().catch(() => undefined);
  model.refreshQuota().catch(() => undefined);

  const settings = options.settings();
  const dialog = new SubmitDialog({
    title: trans.__('Run script in batch'),
    model,
    source: scriptJobSource(target.path, content),
    initial: initialValues(
      defaultJobName(target.path, 'script', undefined, trans),
      settings
    ),
    preferredBackend: settings.defaultBackend,
    trans
  });
  const result = await dialog.launch();
  if (result.button.accept && dialog.job) {
    await app.commands.execute(CommandIDs.open, { jobId: dialog.job.id });
  }
}
