/**
 * What every job dialog shares: a body that holds the form's latest values,
 * its error and busy lines, and a Dialog whose Submit resolves only once the
 * proxy has accepted the job, so a refusal leaves the person's input in place
 * with the proxy's sentence below it.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { newIdempotencyKey } from '../../spec';
import { Batch, IBatchModel } from '../../tokens';
import { loadTrans, TranslationBundle } from '../../translation';

/** What a job form is given by its body. */
export interface IJobFormProps<V> {
  initial: V;
  error: string | null;
  busy: boolean;
  /** What the busy line says; null: "Submitting…". */
  busyText?: string | null;
  onChange: (values: V) => void;
}

/**
 * A form's values as typed, and `update` to change some of them; every change
 * is told to the body (`onChange`) so that Submit reads the latest.
 */
export function useFormValues<V>(
  props: Pick<IJobFormProps<V>, 'initial' | 'onChange'>
): [V, (patch: Partial<V>) => void] {
  const [values, setValues] = React.useState<V>(props.initial);
  const update = (patch: Partial<V>) => {
    setValues(previous => {
      const next = { ...previous, ...patch };
      props.onChange(next);
      return next;
    });
  };
  return [values, update];
}

/**
 * The dialog body of every job kind: renders a form, keeps its latest
 * values for `getValue`, and re-renders when the model's lists change.
 */
export class JobDialogBody<V>
  extends ReactWidget
  implements Dialog.IBodyWidget<V>
{
  constructor(options: JobDialogBody.IOptions<V>) {
    super();
    this._options = options;
    this._values = options.initial;
    this.addClass('jp-Batch-SubmitBody');
    const model = options.model;
    model.backendsChanged.connect(() => this.update(), this);
    model.quotaChanged.connect(() => this.update(), this);
    model.connectionChanged.connect(() => this.update(), this);
  }

  getValue(): V {
    return this._values;
  }

  setError(error: string | null): void {
    this._error = error;
    this.update();
  }

  setBusy(busy: boolean): void {
    this._busy = busy;
    this.update();
  }

  /** What the busy line says instead of "Submitting…" (null: that). */
  setBusyText(text: string | null): void {
    this._busyText = text;
    this.update();
  }

  protected render(): JSX.Element {
    return this._options.renderForm({
      initial: this._options.initial,
      error: this._error,
      busy: this._busy,
      busyText: this._busyText,
      onChange: values => {
        this._values = values;
        this._options.onChange?.(values);
      }
    });
  }

  private _options: JobDialogBody.IOptions<V>;
  private _values: V;
  private _error: string | null = null;
  private _busy = false;
  private _busyText: string | null = null;
}

export namespace JobDialogBody {
  export interface IOptions<V> {
    model: IBatchModel;
    initial: V;
    renderForm: (props: IJobFormProps<V>) => JSX.Element;
    /** Told of every change of the values, e.g. to ask for a plan. */
    onChange?: (values: V) => void;
  }
}

/**
 * A Dialog whose Submit builds a spec, submits it and closes only once the
 * proxy accepted it; a refusal stays in the body, with the input.
 */
export abstract class JobDialog<V> extends Dialog<V> {
  constructor(options: {
    title: string;
    body: JobDialogBody<V>;
    model: IBatchModel;
    idempotencyKey?: string;
    trans?: TranslationBundle;
  }) {
    const trans = options.trans ?? loadTrans();
    super({
      title: options.title,
      body: options.body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Submit') })
      ],
      focusNodeSelector: 'input[name="name"]'
    });
    this.addClass('jp-Batch-Dialog');
    this._form = options.body;
    this._model = options.model;
    this._dialogTrans = trans;
    // One key per dialog: a retried click never makes a second job.
    this._idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
  }

  /** The job the proxy accepted, once the dialog resolved with Submit. */
  get job(): Batch.IJob | null {
    return this._job;
  }

  resolve(index?: number): void {
    const acceptIndex = 1;
    if (index !== undefined && index !== acceptIndex) {
      super.resolve(index);
      return;
    }
    if (this._busy || this.submitBlocked()) {
      return;
    }
    void this._submit(acceptIndex);
  }

  /** Build the spec from the body's values; throws with the sentences to show. */
  protected abstract buildSpec(
    values: V,
    idempotencyKey: string
  ): Batch.IJobSpec;

  /** Whether Submit is disabled for now (e.g. the plan does not fit). */
  protected submitBlocked(): boolean {
    return false;
  }

  /** Enable or disable the Submit button, saying why in its tooltip. */
  protected setSubmitEnabled(enabled: boolean, why?: string): void {
    const accept = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
    if (accept) {
      accept.disabled = !enabled;
      if (why !== undefined) {
        accept.title = why;
      }
    }
  }

  private async _submit(acceptIndex: number): Promise<void> {
    this._setBusy(true);
    this._form.setError(null);
    this._listsError = null;
    const ready = await this._listsLoaded();
    if (this.isDisposed) {
      return; // closed while waiting: nothing was sent
    }
    this._form.setBusyText(null);
    if (!ready) {
      this._setBusy(false);
      this._form.setError(
        this._dialogTrans.__(
          'Nothing was sent: the batch service has not listed its backends and your accounts (%1). Try Submit again in a moment.',
          this._listsError ?? this._dialogTrans.__('no answer in %1 s', 60)
        )
      );
      return;
    }
    this._setBusy(false);
    let spec: Batch.IJobSpec;
    try {
      spec = this.buildSpec(this._form.getValue(), this._idempotencyKey);
    } catch (reason) {
      this._form.setError(
        reason instanceof Error ? reason.message : String(reason)
      );
      return;
    }
    this._setBusy(true);
    this._form.setError(null);
    try {
      this._job = await this._model.submit(spec);
    } catch (reason) {
      this._setBusy(false);
      this._form.setError(
        reason instanceof Error ? reason.message : String(reason)
      );
      return;
    }
    this._setBusy(false);
    super.resolve(acceptIndex);
  }

  /**
   * Whether the backends and accounts are listed and the form has taken its
   * defaults from them. A Submit pressed while the lab is still starting the
   * proxy (the lists take seconds to arrive) waits for them here, saying so,
   * rather than being refused with "Choose a backend" and sending nothing.
   */
  private async _listsLoaded(timeoutMs = 60_000): Promise<boolean> {
    const model = this._model;
    const filled = () => {
      const values = this._form.getValue() as {
        backend?: string;
        account?: string;
      };
      return Boolean(values.backend) && Boolean(values.account);
    };
    const listed = () => model.backends.length > 0 && model.quota !== null;
    if (filled() || listed()) {
      // listed: the form's own checks say what is missing, if anything
      return true;
    }
    this._form.setBusyText(
      this._dialogTrans.__(
        'Waiting for the batch service to list its backends and your accounts…'
      )
    );
    const asks: Promise<void>[] = [];
    if (model.backends.length === 0) {
      asks.push(model.refreshBackends());
    }
    if (model.quota === null) {
      asks.push(model.refreshQuota());
    }
    let failed: string | null = null;
    Promise.all(asks).catch((reason: unknown) => {
      failed = reason instanceof Error ? reason.message : String(reason);
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.isDisposed) {
      await new Promise(resolve => setTimeout(resolve, 100));
      if (failed !== null && !listed()) {
        this._listsError = failed;
        return false;
      }
      if (listed()) {
        // the form takes its defaults from the lists when it next renders
        const settle = Date.now() + 2000;
        while (!filled() && Date.now() < settle) {
          await new Promise(resolve => setTimeout(resolve, 50));
        }
        return true;
      }
    }
    return false;
  }

  private _setBusy(busy: boolean): void {
    this._busy = busy;
    this._form.setBusy(busy);
    this.setSubmitEnabled(!busy && !this.submitBlocked());
  }

  private _form: JobDialogBody<V>;
  private _model: IBatchModel;
  private _idempotencyKey: string;
  private _dialogTrans: TranslationBundle;
  private _listsError: string | null = null;
  private _busy = false;
  private _job: Batch.IJob | null = null;
}
