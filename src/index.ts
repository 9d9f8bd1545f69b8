/**
 * The User Batch plugins: the model (with the settings), the sidebar, the
 * notebook commands and the notifications. Wiring only.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  showDialog,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

import { addNotebookCommands } from './commands';
import { editAndRun } from './editAndRun';
import { batchIcon } from './icons';
import { BatchModel } from './model';
import { BatchClient } from './request';
import { addPipelineCommands } from './pipelineCommands';
import { addScriptCommands } from './script';
import { readSettings } from './settings';
import {
  Batch,
  CommandIDs,
  DEFAULT_SETTINGS,
  IBatchModel,
  IBatchSettings,
  SETTINGS_PLUGIN_ID
} from './tokens';
import { loadTrans, TranslationBundle } from './translation';
import { DeleteJobBody } from './widgets/deleteDialog';
import { JobsPanel } from './widgets/jobsPanel';
import { JobTab } from './widgets/jobTab';
import { BatchSidebar } from './widgets/sidebar';

/**
 * The model and the connection to the proxy; owns the settings schema.
 */
const modelPlugin: JupyterFrontEndPlugin<IBatchModel> = {
  id: SETTINGS_PLUGIN_ID,
  description: 'The User Batch model: jobs, quota and the live event stream.',
  autoStart: true,
  provides: IBatchModel,
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IBatchModel => {
    // The client's and the model's own sentences (connection errors, log and
    // preview notes) reach the person too.
    const trans = loadTrans(translator);
    const client = new BatchClient({
      serverSettings: app.serviceManager.serverSettings,
      proxyUrl: DEFAULT_SETTINGS.proxyUrl,
      trans
    });
    const model = new BatchModel({ client, trans });
    // Never await the network in activate. Connect once the settings are
    // read and the shell is restored, so a first error can reach a toast.
    const settingsRead = settingRegistry
      ? settingRegistry
          .load(SETTINGS_PLUGIN_ID)
          .then(setting => {
            client.proxyUrl = readSettings(setting).proxyUrl;
            setting.changed.connect(() => {
              const proxyUrl = readSettings(setting).proxyUrl;
              if (proxyUrl !== client.proxyUrl) {
                client.proxyUrl = proxyUrl;
                model.restart();
              }
            });
          })
          .catch(reason => {
            console.warn('User Batch: settings could not be read', reason);
          })
      : Promise.resolve();
    void Promise.all([settingsRead, app.restored]).then(() => model.start());
    return model;
  }
};

/**
 * The "Batch jobs" sidebar and the command that shows it.
 */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'user-batch:sidebar',
  description: 'The Batch sidebar: quota, jobs, logs, outputs, provenance.',
  autoStart: true,
  requires: [IBatchModel],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    model: IBatchModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const trans = loadTrans(translator);
    const settings = followSettings(settingRegistry);
    const sidebar = new BatchSidebar({
      model,
      trans,
      onOpenPath: path => {
        void app.commands.execute('docmanager:open', { path });
      },
      onCancel: job => confirmCancel(model, job, trans),
      onRelease: job => releaseJob(model, job, trans),
      onRerun: job => rerunJob(model, job, trans),
      onResubmit: key => resubmitPending(model, key, trans),
      onEditRerun: job =>
        editAndRun({ app, model, job, settings: settings(), trans }),
      onDelete: job => confirmDelete(model, job, trans),
      onOpenPanel: () => void app.commands.execute(CommandIDs.openJobsPanel),
      onOpenTab: jobId =>
        void app.commands.execute(CommandIDs.openJobTab, { jobId })
    });
    app.shell.add(sidebar, 'left', { rank: 850 });
    restorer?.add(sidebar, sidebar.id);

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Show batch jobs'),
      caption: trans.__('Show the Batch sidebar'),
      icon: batchIcon,
      execute: args => {
        app.shell.activateById(sidebar.id);
        if (typeof args.jobId === 'string') {
          model.selectJob(args.jobId);
        }
      }
    });
    palette?.addItem({
      command: CommandIDs.open,
      category: trans.__('User Batch')
    });
  }
};

/**
 * The main-area "Batch jobs" panel (every job in a table) and the job
 * details tabs it and the sidebar open.
 */
const jobsPanelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'user-batch:jobs-panel',
  description:
    'The Batch jobs panel: every job in a sortable, filterable table, and job details tabs.',
  autoStart: true,
  requires: [IBatchModel],
  optional: [
    ICommandPalette,
    ILauncher,
    ILayoutRestorer,
    IDefaultFileBrowser,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    model: IBatchModel,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null,
    translator: ITranslator | null
  ): void => {
    const trans = loadTrans(translator);
    const panels = new WidgetTracker<MainAreaWidget<JobsPanel>>({
      namespace: 'user-batch-jobs-panel'
    });
    const tabs = new WidgetTracker<MainAreaWidget<JobTab>>({
      namespace: 'user-batch-job'
    });

    app.commands.addCommand(CommandIDs.openJobsPanel, {
      label: trans.__('Batch jobs'),
      caption: trans.__(
        'Every batch job in a table: sort, filter, search, sweeps by item'
      ),
      icon: batchIcon,
      execute: () => {
        let widget = panels.currentWidget;
        if (!widget || widget.isDisposed) {
          const content = new JobsPanel({
            model,
            trans,
            onOpenJob: (jobId, item) =>
              void app.commands.execute(CommandIDs.openJobTab, {
                jobId,
                ...(item !== undefined ? { item } : {})
              })
          });
          widget = new MainAreaWidget({ content });
          widget.id = 'user-batch-jobs-panel';
          widget.title.label = trans.__('Batch jobs');
          widget.title.icon = batchIcon;
          widget.title.closable = true;
          void panels.add(widget);
          app.shell.add(widget, 'main');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    app.commands.addCommand(CommandIDs.openJobTab, {
      label: args =>
        typeof args.jobId === 'string'
          ? trans.__(
              'Batch job %1',
              model.getJob(args.jobId)?.name ?? args.jobId
            )
          : trans.__('Batch job'),
      caption: trans.__(
        'A batch job in a tab: its wide log, outputs and provenance'
      ),
      execute: args => {
        const jobId = args.jobId;
        if (typeof jobId !== 'string') {
          return;
        }
        const item = typeof args.item === 'number' ? args.item : undefined;
        const open = tabs.find(w => w.content.jobId === jobId);
        if (open) {
          if (item !== undefined) {
            open.content.selectItem(item);
          }
          app.shell.activateById(open.id);
          return open;
        }
        const content = new JobTab({
          model,
          jobId,
          item,
          trans,
          provenanceUrl: id => model.provenanceDownloadUrl(id),
          onCancel: job => confirmCancel(model, job, trans),
          onRelease: job => releaseJob(model, job, trans),
          onRerun: job => rerunJob(model, job, trans),
          onDelete: job => confirmDelete(model, job, trans),
          onOpenPath: path => {
            void app.commands.execute('docmanager:open', { path });
          },
          onShowFolder: path => {
            if (app.commands.hasCommand('filebrowser:go-to-path')) {
              void app.commands.execute('filebrowser:go-to-path', { path });
            } else if (fileBrowser) {
              void fileBrowser.model.cd(`/${path}`);
            }
          },
          isHTCondor: job =>
            model.backends.find(b => b.name === job.backend)?.type ===
            'htcondor'
        });
        const widget = new MainAreaWidget({ content });
        widget.id = `user-batch-job-${jobId}`;
        const name = model.getJob(jobId)?.name ?? jobId;
        widget.title.label = name;
        widget.title.caption = trans.__('Batch job %1 (%2)', name, jobId);
        widget.title.icon = batchIcon;
        widget.title.closable = true;
        void tabs.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    palette?.addItem({
      command: CommandIDs.openJobsPanel,
      category: trans.__('User Batch')
    });
    launcher?.add({
      command: CommandIDs.openJobsPanel,
      category: trans.__('Other'),
      rank: 50
    });
    if (restorer) {
      void restorer.restore(panels, {
        command: CommandIDs.openJobsPanel,
        name: () => 'jobs'
      });
      void restorer.restore(tabs, {
        command: CommandIDs.openJobTab,
        args: widget => ({ jobId: widget.content.jobId }),
        name: widget => widget.content.jobId
      });
    }
  }
};

/**
 * "Run in batch", "Run notebook in batch" and "Run over catalog" for notebooks. The toolbar
 * buttons and the cell context menu items are declared in schema/plugin.json.
 */
const notebookPlugin: JupyterFrontEndPlugin<void> = {
  id: 'user-batch:notebook',
  description:
    'Commands that submit notebook cells or notebooks as batch jobs.',
  autoStart: true,
  requires: [IBatchModel, INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IBatchModel,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const settings = followSettings(settingRegistry);
    const trans = loadTrans(translator);
    addNotebookCommands({ app, model, tracker, settings, trans });
    for (const command of [
      CommandIDs.runCells,
      CommandIDs.runNotebook,
      CommandIDs.runCatalog
    ]) {
      palette?.addItem({ command, category: trans.__('User Batch') });
    }
  }
};

/**
 * "Run script in batch" for Python files and "Run pipeline in batch" for
 * pipeline YAML files: the file editor's toolbar and
 * context menu and the file browser's context menu are declared in
 * schema/plugin.json; the palette item is added here.
 */
const scriptPlugin: JupyterFrontEndPlugin<void> = {
  id: 'user-batch:script',
  description:
    'Commands that submit a Python file or an LSST pipeline as a batch job.',
  autoStart: true,
  requires: [IBatchModel],
  optional: [
    ISettingRegistry,
    ICommandPalette,
    IDefaultFileBrowser,
    ILabShell,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    model: IBatchModel,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    labShell: ILabShell | null,
    translator: ITranslator | null
  ): void => {
    const trans = loadTrans(translator);
    const settings = followSettings(settingRegistry);
    addScriptCommands({ app, model, settings, fileBrowser, trans });
    addPipelineCommands({ app, model, settings, fileBrowser, trans });
    // Whether the commands show depends on the file in the main area.
    labShell?.currentChanged.connect(() => {
      app.commands.notifyCommandChanged(CommandIDs.runScript);
      app.commands.notifyCommandChanged(CommandIDs.runPipeline);
    });
    for (const command of [CommandIDs.runScript, CommandIDs.runPipeline]) {
      palette?.addItem({ command, category: trans.__('User Batch') });
    }
  }
};

/**
 * The user's settings as they are now: the defaults until read, then kept
 * in step with changes.
 */
function followSettings(
  settingRegistry: ISettingRegistry | null
): () => IBatchSettings {
  let settings: IBatchSettings = DEFAULT_SETTINGS;
  settingRegistry
    ?.load(SETTINGS_PLUGIN_ID)
    .then(setting => {
      settings = readSettings(setting);
      setting.changed.connect(() => {
        settings = readSettings(setting);
      });
    })
    .catch(() => undefined);
  return () => settings;
}

/**
 * Tell the person when a job ends, and once when the service is unreachable.
 */
const notificationsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'user-batch:notifications',
  description:
    'Notifications for finished batch jobs and an unreachable service.',
  autoStart: true,
  requires: [IBatchModel],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IBatchModel,
    translator: ITranslator | null
  ): void => {
    const trans = loadTrans(translator);
    model.jobEnded.connect((_, job) => {
      const actions = [
        {
          label: trans.__('Open'),
          callback: () =>
            void app.commands.execute(CommandIDs.open, { jobId: job.id })
        }
      ];
      const message = endedMessage(job, trans);
      if (job.state === 'succeeded') {
        Notification.success(message, { autoClose: 10000, actions });
      } else if (job.state === 'cancelled') {
        Notification.info(message, { autoClose: 10000, actions });
      } else {
        Notification.error(message, { autoClose: 20000, actions });
      }
    });

    let outage: string | null = null;
    model.connectionChanged.connect((_, status) => {
      if (status === 'unreachable' && outage === null) {
        const error = model.connectionError;
        const answered =
          error?.kind === 'response' && !error.code?.startsWith('http_');
        const message = answered
          ? trans.__(
              'The User Batch service refused the connection: %1',
              error.message
            )
          : trans.__(
              'The User Batch service is not reachable at %1: is jupyter-server-proxy installed and the proxy running?',
              model.serviceUrl
            );
        outage = Notification.error(message, {
          autoClose: false,
          actions: [
            {
              label: trans.__('Show details'),
              callback: () =>
                void showErrorMessage(
                  trans.__('User Batch service unreachable'),
                  error?.message ?? message
                )
            }
          ]
        });
      } else if (status === 'connected' && outage !== null) {
        Notification.dismiss(outage);
        outage = null;
      }
    });
  }
};

function endedMessage(job: Batch.IJob, trans: TranslationBundle): string {
  switch (job.state) {
    case 'succeeded':
      return trans.__('Batch job "%1" succeeded', job.name);
    case 'cancelled':
      return trans.__('Batch job "%1" was cancelled', job.name);
    case 'lost':
      return trans.__('Batch job "%1" was lost by its backend', job.name);
    default:
      return trans.__('Batch job "%1" failed', job.name);
  }
}

async function confirmCancel(
  model: IBatchModel,
  job: Batch.IJob,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Cancel batch job'),
    body: trans.__('Cancel "%1"? Its outputs so far are kept.', job.name),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep running') }),
      Dialog.warnButton({ label: trans.__('Cancel job') })
    ]
  });
  if (!result.button.accept) {
    return false;
  }
  try {
    await model.cancel(job.id);
    return true;
  } catch (reason) {
    notifyFailure(
      trans.__('Could not cancel "%1": %2', job.name, message(reason))
    );
    return false;
  }
}

/** Ask (naming what goes, offering to keep the provenance), then delete. */
async function confirmDelete(
  model: IBatchModel,
  job: Batch.IJob,
  trans: TranslationBundle
): Promise<void> {
  const result = await showDialog({
    title: trans.__('Delete batch job'),
    body: new DeleteJobBody(job, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep job') }),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await model.delete(job.id, result.value ?? true);
  } catch (reason) {
    notifyFailure(
      trans.__('Could not delete "%1": %2', job.name, message(reason))
    );
  }
}

async function releaseJob(
  model: IBatchModel,
  job: Batch.IJob,
  trans: TranslationBundle
): Promise<void> {
  try {
    await model.release(job.id);
  } catch (reason) {
    notifyFailure(
      trans.__('Could not release "%1": %2', job.name, message(reason))
    );
  }
}

/** Submit the job again and open the new one. */
async function rerunJob(
  model: IBatchModel,
  job: Batch.IJob,
  trans: TranslationBundle
): Promise<void> {
  try {
    const next = await model.rerun(job.id);
    model.selectJob(next.id);
  } catch (reason) {
    notifyFailure(
      trans.__('Could not run "%1" again: %2', job.name, message(reason))
    );
  }
}

/** Send an unconfirmed submission again (its own key: never two jobs) and open its job. */
async function resubmitPending(
  model: IBatchModel,
  key: string,
  trans: TranslationBundle
): Promise<void> {
  const name =
    model.pendingSubmissions.find(entry => entry.key === key)?.name ?? '';
  try {
    const job = await model.resubmitPending(key);
    model.selectJob(job.id);
  } catch (reason) {
    notifyFailure(
      trans.__('Could not submit "%1" again: %2', name, message(reason))
    );
  }
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** The proxy's own sentence says what to do; show it with what was tried. */
function notifyFailure(text: string): void {
  Notification.error(text, { autoClose: 10000 });
}

export default [
  modelPlugin,
  sidebarPlugin,
  jobsPanelPlugin,
  notebookPlugin,
  scriptPlugin,
  notificationsPlugin
];
