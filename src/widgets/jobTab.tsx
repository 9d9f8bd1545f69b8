/**
 * A job's details in a main-area tab: the sidebar's details (facts, error,
 * sweep items, catalog or pipeline progress, outputs, provenance) with a
 * wide log that keeps its lines unwrapped, searches and follows the end, and
 * the job's id and output folder with "Show in file browser".
 */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { findMatches, TextMatch } from '../jobTable';
import { Batch, IBatchModel, IJobWatch, ILogTail } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { JobDetails } from './jobs';

export class JobTab extends ReactWidget {
  constructor(options: JobTab.IOptions) {
    super();
    this._options = options;
    this._trans = options.trans ?? loadTrans();
    this.addClass('jp-Batch-JobTab');
    this._watch = options.model.watchJob(options.jobId, () => this.isVisible);
    this._watch.changed.connect(this._onChange, this);
    if (options.item !== undefined) {
      this._watch.selectItem(options.item);
    }
  }

  get jobId(): string {
    return this._watch.jobId;
  }

  /** Follow a sweep item's log (from the panel's item rows). */
  selectItem(item: number): void {
    this._watch.selectItem(item);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watch.dispose();
    super.dispose();
  }

  protected onAfterShow(): void {
    this.update();
  }

  protected render(): JSX.Element {
    const watch = this._watch;
    const job = watch.job;
    const trans = this._trans;
    const options = this._options;
    if (!job) {
      return (
        <div className="jp-Batch-JobTabContent">
          <div className="jp-Batch-Empty">
            {trans.__(
              'Job %1 is not in your list: it was deleted, or the list is still loading.',
              watch.jobId
            )}
          </div>
        </div>
      );
    }
    const log = watch.log?.jobId === job.id ? watch.log : null;
    return (
      <div className="jp-Batch-JobTabContent" data-job-id={job.id}>
        <dl className="jp-Batch-Facts jp-Batch-JobTabFacts">
          <dt>{trans.__('Job id')}</dt>
          <dd>
            <code className="jp-Batch-JobId">{job.id}</code>
          </dd>
          <dt>{trans.__('Kind')}</dt>
          <dd>{job.kind}</dd>
          <dt>{trans.__('Output folder')}</dt>
          <dd>
            <code className="jp-Batch-OutputDir">{job.outputDir}</code>{' '}
            <button
              className="jp-Button jp-mod-styled jp-Batch-ShowInBrowser"
              title={trans.__('Open the folder in the file browser')}
              onClick={() => options.onShowFolder(job.outputDir)}
            >
              {trans.__('Show in file browser')}
            </button>
          </dd>
          {job.notebookPath && (
            <>
              <dt>{trans.__('From')}</dt>
              <dd>{job.notebookPath}</dd>
            </>
          )}
        </dl>
        <JobDetails
          job={job}
          log={log}
          details={watch.details?.jobId === job.id ? watch.details : null}
          now={Date.now()}
          provenanceUrl={options.provenanceUrl(job.id)}
          onCancel={j => void options.onCancel(j).then(() => this.update())}
          onRelease={j => void options.onRelease(j)}
          onRerun={options.onRerun ? j => void options.onRerun?.(j) : undefined}
          onDelete={
            options.onDelete ? j => void options.onDelete?.(j) : undefined
          }
          onOpenPath={options.onOpenPath}
          onClose={() => this.parent?.close()}
          selectedItem={watch.item ?? log?.item ?? null}
          onSelectItem={item => watch.selectItem(item)}
          catalogRun={watch.catalogRun}
          pipelineRun={watch.pipelineRun}
          batchSystemLog={
            options.isHTCondor(job)
              ? {
                  log: watch.batchSystemLog,
                  title: trans.__('HTCondor events')
                }
              : undefined
          }
          logView={
            <WideLog
              log={log}
              running={!Batch.isFinal(job.state)}
              trans={trans}
            />
          }
          trans={trans}
        />
      </div>
    );
  }

  private _onChange(): void {
    this.update();
  }

  private _options: JobTab.IOptions;
  private _trans: TranslationBundle;
  private _watch: IJobWatch;
}

export namespace JobTab {
  export interface IOptions {
    model: IBatchModel;
    jobId: string;
    /** The sweep item whose log to show first. */
    item?: number;
    provenanceUrl: (jobId: string) => string;
    onCancel: (job: Batch.IJob) => Promise<boolean>;
    onRelease: (job: Batch.IJob) => Promise<void>;
    onRerun?: (job: Batch.IJob) => Promise<void>;
    onDelete?: (job: Batch.IJob) => Promise<void>;
    /** Open a file (relative to the Jupyter root). */
    onOpenPath: (path: string) => void;
    /** Show a folder (relative to the Jupyter root) in the file browser. */
    onShowFolder: (path: string) => void;
    /** Whether the job's backend keeps a batch system log (HTCondor). */
    isHTCondor: (job: Batch.IJob) => boolean;
    trans?: TranslationBundle;
  }
}

/**
 * The log as written: lines are not wrapped (tables stay tables; scroll
 * sideways), a search marks every match and jumps between them, and Follow
 * keeps the end in view while the job writes.
 */
export function WideLog(props: {
  log: ILogTail | null;
  /** Whether the job can still write: Follow is on by default then. */
  running: boolean;
  trans?: TranslationBundle;
}): JSX.Element {
  const trans = props.trans ?? loadTrans();
  const text = props.log?.text ?? '';
  const [query, setQuery] = React.useState('');
  const [current, setCurrent] = React.useState(0);
  const [follow, setFollow] = React.useState(props.running);
  const ref = React.useRef<HTMLPreElement>(null);
  const matches = React.useMemo(() => findMatches(text, query), [text, query]);
  const index = matches.length ? Math.min(current, matches.length - 1) : -1;
  // The end stays in view while following; a found match is brought into
  // view when it changes.
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (node && follow) {
      node.scrollTop = node.scrollHeight;
    }
  }, [text, follow]);
  React.useLayoutEffect(() => {
    const node = ref.current;
    const mark = node?.querySelector<HTMLElement>('mark.jp-mod-current');
    if (node && mark && !follow) {
      // Scroll the log alone (the log is the mark's offset parent), not the
      // tab around it: the job's facts stay where they are.
      node.scrollTop = mark.offsetTop - node.clientHeight / 2;
      node.scrollLeft = mark.offsetLeft - node.clientWidth / 2;
    }
  }, [query, index, follow]);
  const step = (by: number) => {
    if (matches.length) {
      setFollow(false);
      setCurrent((index + by + matches.length) % matches.length);
    }
  };
  return (
    <div className="jp-Batch-WideLogBox">
      <div className="jp-Batch-WideLogToolbar">
        <input
          className="jp-mod-styled jp-Batch-LogSearch"
          type="search"
          name="log-search"
          placeholder={trans.__('Search the log')}
          aria-label={trans.__('Search the log')}
          value={query}
          onChange={event => {
            setQuery(event.currentTarget.value);
            setCurrent(0);
            if (event.currentTarget.value) {
              setFollow(false);
            }
          }}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              step(event.shiftKey ? -1 : 1);
            }
          }}
        />
        <span className="jp-Batch-LogMatches">
          {query
            ? matches.length
              ? trans.__('%1 of %2', index + 1, matches.length)
              : trans.__('no match')
            : ''}
        </span>
        <button
          className="jp-Button jp-mod-minimal jp-Batch-LogPrev"
          title={trans.__('Previous match (Shift+Enter)')}
          disabled={!matches.length}
          onClick={() => step(-1)}
        >
          ↑
        </button>
        <button
          className="jp-Button jp-mod-minimal jp-Batch-LogNext"
          title={trans.__('Next match (Enter)')}
          disabled={!matches.length}
          onClick={() => step(1)}
        >
          ↓
        </button>
        <label
          className="jp-Batch-LogFollow"
          title={trans.__('Keep the end of the log in view')}
        >
          <input
            type="checkbox"
            name="follow"
            checked={follow}
            onChange={event => setFollow(event.currentTarget.checked)}
          />{' '}
          {trans.__('Follow')}
        </label>
      </div>
      <pre
        ref={ref}
        className="jp-Batch-WideLog"
        onWheel={event => {
          if (event.deltaY < 0 && follow) {
            setFollow(false); // reading back up: stop pulling to the end
          }
        }}
      >
        {props.log === null
          ? trans.__('Reading the log…')
          : text
            ? markMatches(text, matches, index)
            : trans.__('(no output yet)')}
      </pre>
    </div>
  );
}

/** The text with each match in a <mark>, the current one marked as such. */
function markMatches(
  text: string,
  matches: TextMatch[],
  current: number
): React.ReactNode {
  if (matches.length === 0) {
    return text;
  }
  const parts: React.ReactNode[] = [];
  let at = 0;
  matches.forEach(([start, end], i) => {
    if (start > at) {
      parts.push(text.slice(at, start));
    }
    parts.push(
      <mark
        key={i}
        className={`jp-Batch-LogMatch${i === current ? ' jp-mod-current' : ''}`}
      >
        {text.slice(start, end)}
      </mark>
    );
    at = end;
  });
  if (at < text.length) {
    parts.push(text.slice(at));
  }
  return parts;
}
