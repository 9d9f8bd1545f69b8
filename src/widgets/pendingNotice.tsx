/**
 * The note about submissions the proxy never confirmed (the page was reloaded
 * or the network failed while one was on its way), with what to do.
 */
import * as React from 'react';

import { IPendingSubmission } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

export function PendingNotice(props: {
  pending: ReadonlyArray<IPendingSubmission>;
  /** Send it again with its idempotency key. */
  onResubmit: (key: string) => void;
  onDiscard: (key: string) => void;
  /** Keys being sent again now. */
  sending?: ReadonlySet<string>;
  trans?: TranslationBundle;
}): JSX.Element | null {
  const trans = props.trans ?? loadTrans();
  if (props.pending.length === 0) {
    return null;
  }
  return (
    <ul className="jp-Batch-Pending">
      {props.pending.map(entry => {
        const sending = props.sending?.has(entry.key) ?? false;
        return (
          <li
            key={entry.key}
            className="jp-Batch-PendingItem"
            data-key={entry.key}
          >
            <span className="jp-Batch-PendingText">
              {trans.__(
                'A submission from %1 (“%2”) was not confirmed: it may not have reached the batch service.',
                formatWhen(entry.at),
                entry.name
              )}
            </span>
            {entry.spec && (
              <button
                className="jp-Button jp-mod-styled jp-mod-accept jp-Batch-PendingResubmit"
                disabled={sending}
                title={trans.__(
                  'Send it again; if the first one did arrive, that job is shown instead of a second one'
                )}
                onClick={() => props.onResubmit(entry.key)}
              >
                {sending ? trans.__('Submitting…') : trans.__('Submit again')}
              </button>
            )}
            <button
              className="jp-Button jp-mod-styled jp-Batch-PendingDiscard"
              disabled={sending}
              title={trans.__('Forget this submission')}
              onClick={() => props.onDiscard(entry.key)}
            >
              {trans.__('Discard')}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The time, with the date when it was not today. */
function formatWhen(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) {
    return iso;
  }
  return at.toDateString() === new Date().toDateString()
    ? at.toLocaleTimeString()
    : at.toLocaleString();
}
