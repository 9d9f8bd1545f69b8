/**
 * Small pure formatting helpers for the Batch widgets.
 */
import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

/**
 * A duration as `m:ss` or `h:mm:ss`.
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * How long a job has run (or ran); waiting jobs show their wait.
 */
export function elapsed(
  job: Batch.IJob,
  now: number,
  trans: TranslationBundle = loadTrans()
): string {
  const end = job.endedAt ? Date.parse(job.endedAt) : now;
  if (job.startedAt) {
    return formatDuration(end - Date.parse(job.startedAt));
  }
  if (Batch.isFinal(job.state)) {
    return '–';
  }
  return trans.__(
    'waiting %1',
    formatDuration(end - Date.parse(job.createdAt))
  );
}

/**
 * A quota number: whole numbers as they are, others to two decimals at most.
 */
export function formatAmount(value: number): string {
  if (value > 0 && value < 0.01) {
    return '<0.01';
  }
  return Number.isInteger(value)
    ? String(value)
    : String(Math.round(value * 100) / 100);
}

export function formatBytes(size: number): string {
  if (size < 1024) {
    return `${size} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A job state in the person's language; English shows the API's word. */
export function stateLabel(
  state: Batch.JobState,
  trans: TranslationBundle = loadTrans()
): string {
  switch (state) {
    case 'pending':
      return trans.__('pending');
    case 'queued':
      return trans.__('queued');
    case 'running':
      return trans.__('running');
    case 'succeeded':
      return trans.__('succeeded');
    case 'failed':
      return trans.__('failed');
    case 'cancelled':
      return trans.__('cancelled');
    case 'held':
      return trans.__('held');
    case 'lost':
      return trans.__('lost');
    default:
      // A state a newer proxy knows and this extension not yet: its own word.
      return String(state);
  }
}

/**
 * One row of the provenance summary.
 */
export interface ISummaryRow {
  label: string;
  value: string;
  /** The full text where the value is shortened. */
  title?: string;
}

/** Hashes are told apart by their first hex digits; the title has the rest. */
export function shortHash(hash: string): string {
  return hash.length > 12 ? `${hash.slice(0, 12)}…` : hash;
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(source: unknown, ...path: string[]): unknown {
  let current = source;
  for (const key of path) {
    if (!isDict(current)) {
      return undefined;
    }
    current = current[key];
  }
  return current;
}

function first(...values: unknown[]): unknown {
  return values.find(value => value !== undefined && value !== null);
}

function text(value: unknown): string | null {
  if (value === undefined || value === null || value === '') {
    return null;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The rows a person reads first in a provenance record: the code that ran,
 * the notebook, the parameters, the environment, timings and exit. The
 * record itself belongs to the proxy; missing parts are left out.
 */
export function summarizeProvenance(
  provenance: Batch.Provenance | null,
  job: Batch.IJob,
  trans: TranslationBundle = loadTrans()
): ISummaryRow[] {
  const rows: ISummaryRow[] = [];
  const add = (label: string, value: unknown) => {
    const t = text(value);
    if (t !== null) {
      rows.push({ label, value: t });
    }
  };
  // The proxy's record (server-proxy/src/schemas.ts, Provenance); the times
  // come from the job itself, which the record repeats.
  const p = provenance ?? {};
  const code = p.code;
  if (Array.isArray(code)) {
    code.forEach(item => {
      const sha = pick(item, 'sha256');
      if (!sha) {
        return;
      }
      const id = pick(item, 'cellId');
      const role = first(pick(item, 'role'), pick(item, 'kind'));
      const what = [id, role ? `(${String(role)})` : null]
        .filter(Boolean)
        .map(String)
        .join(' ');
      rows.push({
        label: trans.__('Code'),
        value: `${what ? `${what}: ` : ''}sha256 ${shortHash(String(sha))}`,
        title: `sha256 ${String(sha)}`
      });
    });
  }
  const notebookPath = first(pick(p, 'notebook', 'path'), job.notebookPath);
  const notebookHash = pick(p, 'notebook', 'sha256');
  add(
    trans.__('Notebook'),
    notebookHash
      ? `${String(notebookPath)} (sha256 ${String(notebookHash)})`
      : notebookPath
  );
  const parameters = p.parameters;
  if (isDict(parameters) && Object.keys(parameters).length) {
    add(
      trans.__('Parameters'),
      Object.entries(parameters)
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .join(', ')
    );
  }
  const sweep = pick(p, 'spec', 'sweep');
  if (Array.isArray(sweep) && sweep.length) {
    // the values each name took over the runs, in order of first use
    const values = new Map<string, string[]>();
    sweep.filter(isDict).forEach(item =>
      Object.entries(item).forEach(([name, value]) => {
        const seen = values.get(name) ?? [];
        const shown = JSON.stringify(value);
        if (!seen.includes(shown)) {
          seen.push(shown);
        }
        values.set(name, seen);
      })
    );
    add(
      trans.__('Sweep'),
      trans._n(
        '%1 run: %2',
        '%1 runs: %2',
        sweep.length,
        [...values].map(([k, v]) => `${k} = ${v.join(', ')}`).join('; ')
      )
    );
  }
  add(trans.__('Python'), pick(p, 'environment', 'python', 'version'));
  add(trans.__('Created'), job.createdAt);
  add(trans.__('Started'), job.startedAt);
  add(trans.__('Ended'), job.endedAt);
  const exitCode = first(pick(p, 'exit', 'exitCode'), job.exitCode);
  const reason = pick(p, 'exit', 'reason');
  if (exitCode !== undefined) {
    add(
      trans.__('Exit'),
      reason ? `${String(exitCode)} (${String(reason)})` : exitCode
    );
  }
  return rows;
}

/** What a letter of a sweep's `progress.items` means, in the person's language. */
export function sweepItemState(
  letter: string,
  trans: TranslationBundle = loadTrans()
): string {
  switch (letter) {
    case 'q':
      return trans.__('queued');
    case 'r':
      return trans.__('running');
    case 'h':
      return trans.__('held');
    case 'd':
      return trans.__('done');
    case 'f':
      return trans.__('failed');
    case 'c':
      return trans.__('cancelled');
    default:
      return letter;
  }
}

/**
 * How many items of a sweep are in each state, by letter.
 */
export function countSweepItems(items: string): Record<string, number> {
  const counts: Record<string, number> = { q: 0, r: 0, h: 0, d: 0, f: 0, c: 0 };
  for (const letter of items) {
    counts[letter] = (counts[letter] ?? 0) + 1;
  }
  return counts;
}

/**
 * One line over a sweep's items, e.g. "99 done · 1 failed · 0 running ·
 * 0 waiting of 100"; held and cancelled items are named only when there are
 * some (held ones also count as waiting).
 */
export function sweepCountsLine(
  items: string,
  trans: TranslationBundle = loadTrans()
): string {
  const n = countSweepItems(items);
  const parts = [
    trans.__('%1 done', n.d),
    trans.__('%1 failed', n.f),
    trans.__('%1 running', n.r),
    trans.__('%1 waiting', n.q + n.h)
  ];
  if (n.h) {
    parts.push(trans.__('%1 held', n.h));
  }
  if (n.c) {
    parts.push(trans.__('%1 cancelled', n.c));
  }
  return trans.__('%1 of %2', parts.join(' · '), items.length);
}
