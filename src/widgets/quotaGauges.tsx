/**
 * The quota gauges at the top of the Batch sidebar: usage against each limit.
 */
import * as React from 'react';

import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { formatCoreHours } from '../catalog';
import { formatAmount } from './format';

function gauges(
  trans: TranslationBundle
): { limit: Batch.QuotaLimitName; label: string; unit: string }[] {
  return [
    {
      limit: 'concurrentJobs',
      label: trans.__('Jobs'),
      unit: trans.__('concurrent jobs')
    },
    {
      limit: 'concurrentCores',
      label: trans.__('Cores'),
      unit: trans.__('concurrent cores')
    },
    {
      limit: 'coreHours',
      label: trans.__('Core-hours'),
      unit: trans.__('core-hours')
    },
    {
      limit: 'memoryPerJobMiB',
      label: trans.__('Memory/job'),
      unit: trans.__('MiB a job')
    }
  ];
}

/** A gauge warns from this share of its limit on. */
const WARN_RATIO = 0.8;

export function QuotaGauges(props: {
  quota: Batch.IQuotaStatus | null;
  jobs: ReadonlyArray<Batch.IJob>;
  trans?: TranslationBundle;
}): JSX.Element | null {
  const { quota, jobs } = props;
  const trans = props.trans ?? loadTrans();
  if (!quota) {
    return null;
  }
  const active = jobs.filter(job => !Batch.isFinal(job.state));
  const used: Record<Batch.QuotaLimitName, number> = {
    concurrentJobs: quota.usage.concurrentJobs,
    concurrentCores: quota.usage.concurrentCores,
    coreHours: quota.usage.coreHours,
    // No usage for a per-job limit: show the largest running job against it.
    memoryPerJobMiB: active.reduce(
      (max, job) => Math.max(max, job.resources.memoryMiB),
      0
    )
  };
  return (
    <div className="jp-Batch-Quota">
      {gauges(trans).map(({ limit, label, unit }) => {
        const max = quota.limits[limit];
        const value = used[limit];
        const ratio = max > 0 ? value / max : 1;
        const amount = limit === 'coreHours' ? formatCoreHours : formatAmount;
        const classes = ['jp-Batch-QuotaGauge'];
        if (ratio >= 1) {
          classes.push('-mod-full');
        } else if (ratio >= WARN_RATIO) {
          classes.push('-mod-warn');
        }
        const window =
          limit === 'coreHours'
            ? trans.__(' in the last %1 h', quota.windowHours)
            : '';
        return (
          <div
            key={limit}
            className={classes.join(' ')}
            data-limit={limit}
            title={trans.__(
              '%1 of %2 %3%4',
              amount(value),
              amount(max),
              unit,
              window
            )}
          >
            <span className="jp-Batch-QuotaLabel">{label}</span>
            <span className="jp-Batch-QuotaBar">
              <span
                className="jp-Batch-QuotaFill"
                style={{ width: `${Math.min(100, Math.round(ratio * 100))}%` }}
              />
            </span>
            <span className="jp-Batch-QuotaValue">
              {`${amount(value)} / ${amount(max)}`}
            </span>
          </div>
        );
      })}
    </div>
  );
}
