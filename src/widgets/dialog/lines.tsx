/**
 * The live lines under a dialog's fields: how many runs a sweep makes and
 * what the job would take of the quota.
 */
import { UseSignal } from '@jupyterlab/apputils';
import * as React from 'react';

import {
  clusterWorkers,
  hasSweep,
  isDaskBackend,
  ISubmitValues,
  parseSweep,
  quotaSummary,
  sweepSummary
} from '../../spec';
import { IBatchModel } from '../../tokens';
import { TranslationBundle } from '../../translation';
import { backendType } from './fields';

/** Whether the chosen backend runs a sweep's items all at once. */
function sweepsInParallel(model: IBatchModel, backend: string): boolean {
  return (
    model.backends.find(b => b.name === backend)?.sweepsInParallel ?? false
  );
}

/**
 * The live line under the sweep: how many runs and how they would run, or
 * what to fix in the text.
 */
export function SweepLine(props: {
  model: IBatchModel;
  values: ISubmitValues;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { model, values, trans } = props;
  const cpus = Number.isFinite(values.cpus) ? values.cpus : 0;
  const summary = sweepSummary(
    values.sweep ?? '',
    cpus,
    sweepsInParallel(model, values.backend),
    trans
  );
  if (!summary) {
    return null;
  }
  return (
    <div className={`jp-Batch-SweepSummary${summary.ok ? '' : ' -mod-warn'}`}>
      {summary.text}
    </div>
  );
}

/** How many runs the sweep text makes; 1 without a sweep or while it is wrong. */
function sweepRuns(values: ISubmitValues): number {
  if (!hasSweep(values)) {
    return 1;
  }
  const sweep = parseSweep(values.sweep ?? '', false);
  return sweep.errors.length ? 1 : sweep.count;
}

export function QuotaLine(props: {
  model: IBatchModel;
  values: ISubmitValues;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, values, trans } = props;
  return (
    <UseSignal signal={model.quotaChanged} initialArgs={model.quota}>
      {(_, quota) => {
        if (!quota) {
          const unreachable = model.connection === 'unreachable';
          return (
            <div
              className={`jp-Batch-QuotaSummary${unreachable ? ' -mod-warn' : ' jp-Batch-Muted'}`}
            >
              {unreachable
                ? trans.__(
                    'Your quota cannot be read: %1',
                    model.connectionError?.message ??
                      trans.__('the User Batch service is not reachable.')
                  )
                : trans.__('Reading your quota…')}
            </div>
          );
        }
        const summary = quotaSummary(
          quota,
          {
            cpus: Number.isFinite(values.cpus) ? values.cpus : 0,
            memoryMiB: Number.isFinite(values.memoryMiB) ? values.memoryMiB : 0,
            walltimeMinutes: Number.isFinite(values.walltimeMinutes)
              ? values.walltimeMinutes
              : 0,
            runs: sweepRuns(values),
            parallel: sweepsInParallel(model, values.backend),
            workers: isDaskBackend(backendType(model, values.backend))
              ? clusterWorkers(values)
              : undefined
          },
          trans
        );
        return (
          <div
            className={`jp-Batch-QuotaSummary${summary.fits ? '' : ' -mod-warn'}`}
          >
            {summary.text}
          </div>
        );
      }}
    </UseSignal>
  );
}
