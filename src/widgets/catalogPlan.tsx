/**
 * The plan panel of "Run over catalog": what the run would touch and cost,
 * and whether Submit may be pressed.
 */
import * as React from 'react';

import { planLine } from '../catalog';
import { CatalogPlanState } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

/**
 * Where the plan stands: nothing to ask yet (with what to fix), asking, or
 * the proxy's plan or sentence.
 */
export type PlanState = CatalogPlanState;

/**
 * Why Submit is disabled for a plan state; null when it may be pressed.
 */
export function planBlocksSubmit(
  state: PlanState,
  trans: TranslationBundle = loadTrans()
): string | null {
  switch (state.status) {
    case 'ok':
      return state.plan.quota.fits
        ? null
        : trans.__('Submit is disabled: %1', state.plan.quota.message);
    case 'error':
      return trans.__(
        'Submit is disabled until the catalog can be planned: fix the fields above.'
      );
    case 'incomplete':
      return state.message;
    case 'loading':
      return null;
  }
}

/**
 * The plan panel: the plan line and the quota message, or the planner's
 * sentence.
 */
export function PlanPanel(props: {
  state: PlanState;
  trans?: TranslationBundle;
}): JSX.Element {
  const { state } = props;
  const trans = props.trans ?? loadTrans();
  switch (state.status) {
    case 'loading':
      return (
        <div className="jp-Batch-Plan jp-Batch-Muted" data-status="loading">
          {trans.__('Planning…')}
        </div>
      );
    case 'incomplete':
    case 'error':
      return (
        <div className="jp-Batch-Plan -mod-warn" data-status={state.status}>
          {state.message}
        </div>
      );
    case 'ok': {
      const { plan } = state;
      return (
        <div
          className={`jp-Batch-Plan${plan.quota.fits ? '' : ' -mod-warn'}`}
          data-status="ok"
          data-fits={String(plan.quota.fits)}
        >
          <div className="jp-Batch-PlanLine">{planLine(plan, trans)}</div>
          <div className="jp-Batch-PlanQuota">{plan.quota.message}</div>
        </div>
      );
    }
  }
}
