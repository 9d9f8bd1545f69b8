/**
 * The body of the "Delete batch job" confirmation: what will be removed, and
 * whether to keep the provenance record (its value, checked by default).
 */
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

export class DeleteJobBody
  extends Widget
  implements Dialog.IBodyWidget<boolean>
{
  constructor(job: Batch.IJob, trans: TranslationBundle = loadTrans()) {
    super();
    this.addClass('jp-Batch-DeleteBody');
    const what = document.createElement('p');
    what.textContent = trans.__(
      'Delete "%1"? Its output folder %2 and everything in it, its log and its place in the job list are removed. This cannot be undone.',
      job.name,
      job.outputDir
    );
    this.node.appendChild(what);
    if (job.kind === 'pipeline') {
      const butler = document.createElement('p');
      butler.textContent = trans.__(
        'Datasets the run wrote to the butler repository stay there.'
      );
      this.node.appendChild(butler);
    }
    const label = document.createElement('label');
    label.className = 'jp-Batch-KeepProvenance';
    this._keep = document.createElement('input');
    this._keep.type = 'checkbox';
    this._keep.checked = true;
    label.appendChild(this._keep);
    label.appendChild(
      document.createTextNode(' ' + trans.__('Keep the provenance record'))
    );
    this.node.appendChild(label);
    const hint = document.createElement('p');
    hint.className = 'jp-Batch-Muted';
    hint.textContent = trans.__(
      'What ran, with its code and output hashes, stays readable from the API by its job id.'
    );
    this.node.appendChild(hint);
  }

  /** Whether to keep the provenance record. */
  getValue(): boolean {
    return this._keep.checked;
  }

  private _keep: HTMLInputElement;
}
