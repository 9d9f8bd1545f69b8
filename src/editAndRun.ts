/**
 * "Edit and run": the dialog that made a job (cells, notebook, script,
 * catalog run, pipeline run), filled in from the job's recorded spec, its
 * code the job's own. Submit makes a new job; the old one stays as it was.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';

import { EMPTY_REGION } from './catalog';
import { unhandledKind } from './kinds';
import { initialPipelineValues } from './pipelineCommands';
import { catalogPrefill, pipelinePrefill, submitPrefill } from './prefill';
import { Batch, CommandIDs, IBatchModel, IBatchSettings } from './tokens';
import { TranslationBundle } from './translation';
import { CatalogDialog } from './widgets/catalog';
import { PipelineDialog } from './widgets/pipeline';
import { initialValues, SubmitDialog } from './widgets/submit';

export async function editAndRun(options: {
  app: JupyterFrontEnd;
  model: IBatchModel;
  job: Batch.IJob;
  settings: IBatchSettings;
  trans: TranslationBundle;
}): Promise<void> {
  const { app, model, job, settings, trans } = options;
  let spec: Batch.IJobSpec;
  try {
    spec = await model.recordedSpec(job.id);
  } catch (reason) {
    Notification.error(
      trans.__(
        'Could not read how "%1" was submitted: %2',
        job.name,
        reason instanceof Error ? reason.message : String(reason)
      ),
      { autoClose: 10000 }
    );
    return;
  }
  model.refreshBackends().catch(() => undefined);
  model.refreshQuota().catch(() => undefined);
  const standard =
    spec.kind === 'pipeline'
      ? await model.standardPipelines().catch(() => [])
      : [];
  const dialog = editDialog(model, spec, settings, trans, standard);
  const result = await dialog.launch();
  if (result.button.accept && dialog.job) {
    await app.commands.execute(CommandIDs.open, { jobId: dialog.job.id });
  }
}

/** The dialog of the spec's kind, filled in from it. */
export function editDialog(
  model: IBatchModel,
  spec: Batch.IJobSpec,
  settings: IBatchSettings,
  trans: TranslationBundle,
  /** The site's standard pipelines (a pipeline run may use one). */
  standard: ReadonlyArray<Batch.IStandardPipeline> = []
): SubmitDialog | CatalogDialog | PipelineDialog {
  const title = trans.__('Edit and run “%1”', spec.name);
  const defaults = initialValues(spec.name, settings);
  switch (spec.kind) {
    case 'cells':
    case 'notebook':
    case 'script': {
      const { source, values, notes } = submitPrefill(spec, defaults, trans);
      if (notes.length) {
        Notification.warning(notes.join(' '), { autoClose: 10000 });
      }
      return new SubmitDialog({
        title,
        model,
        source,
        initial: values,
        preferredBackend: settings.defaultBackend,
        trans
      });
    }
    case 'catalog': {
      const { source, values } = catalogPrefill(spec, {
        ...defaults,
        functionName: '',
        catalogPath: '',
        region: { ...EMPTY_REGION },
        columns: ''
      });
      return new CatalogDialog({
        title,
        model,
        source,
        initial: values,
        preferredBackend: settings.defaultBackend,
        trans
      });
    }
    case 'pipeline': {
      const { source, values } = pipelinePrefill(
        spec,
        initialPipelineValues(null, [], settings)
      );
      return new PipelineDialog({
        title,
        model,
        source,
        initial: values,
        preferredBackend: settings.defaultBackend,
        standard,
        trans
      });
    }
    default:
      return unhandledKind(spec.kind);
  }
}
