/**
 * Parameter sweeps: the sweep text as lists of values, their combinations,
 * and the live line saying how many runs they make.
 */
import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { MAX_SWEEP_ITEMS } from '@user-batch/contract/lib/limits';
import { formatParameterErrors, parseParameters } from './literals';

/** The most runs one sweep may have (the proxy's limit: one HTCondor cluster). */
export { MAX_SWEEP_ITEMS };

export interface IParsedSweep {
  /** One parameter set per run, the cartesian product in line order. */
  items: Record<string, Batch.ParameterValue>[];
  /** How many runs the lines make, even when over the limit. */
  count: number;
  /** One sentence per problem, ready to show. */
  errors: string[];
}

/**
 * Parse the sweep textarea: the parameters syntax, where every value is a
 * non-empty list of the values to try. The runs are every combination, the
 * first line varying slowest (like Python's itertools.product). Without
 * `withItems` only the count and the errors are worked out.
 */
export function parseSweep(
  text: string,
  withItems = true,
  trans: TranslationBundle = loadTrans()
): IParsedSweep {
  const parsed = parseParameters(text, trans);
  const problems = parsed.errors.slice();
  const names = Object.keys(parsed.parameters);
  for (const name of names) {
    const value = parsed.parameters[name];
    if (!Array.isArray(value)) {
      problems.push({
        line: parsed.lines[name],
        message: trans.__(
          'the value of "%1" must be a list of values, e.g. %1 = ["g", "r"]',
          name
        )
      });
    } else if (value.length === 0) {
      problems.push({
        line: parsed.lines[name],
        message: trans.__(
          'the list of "%1" is empty; give at least one value, e.g. %1 = ["g", "r"]',
          name
        )
      });
    }
  }
  if (problems.length) {
    problems.sort((a, b) => a.line - b.line);
    return {
      items: [],
      count: 0,
      errors: problems.map(p =>
        formatParameterErrors([p], trans.__('Sweep'), trans)
      )
    };
  }
  const lists = names.map(name => parsed.parameters[name] as unknown[]);
  const count = lists.reduce(
    (n, list) => n * list.length,
    names.length ? 1 : 0
  );
  if (count > MAX_SWEEP_ITEMS) {
    const sizes = lists.map(list => list.length).join(' × ');
    return {
      items: [],
      count,
      errors: [
        trans.__(
          'Sweep: %1 = %2 runs; one sweep may have at most %3. Use fewer values or split the sweep.',
          sizes,
          count.toLocaleString('en-US'),
          MAX_SWEEP_ITEMS.toLocaleString('en-US')
        )
      ]
    };
  }
  // The live count in the dialog skips building up to 100,000 objects a keystroke.
  const items = withItems ? cartesianProduct(names, lists) : [];
  return { items, count, errors: [] };
}

/**
 * Every combination of one value per name; the last name varies fastest.
 */
function cartesianProduct(
  names: string[],
  lists: unknown[][]
): Record<string, Batch.ParameterValue>[] {
  let items: Record<string, Batch.ParameterValue>[] = names.length ? [{}] : [];
  names.forEach((name, index) => {
    const next: Record<string, Batch.ParameterValue>[] = [];
    for (const item of items) {
      for (const value of lists[index]) {
        next.push({ ...item, [name]: value as Batch.ParameterValue });
      }
    }
    items = next;
  });
  return items;
}

/**
 * Whether the sweep textarea has anything but blanks and comments: only then
 * is the job a sweep.
 */
export function hasSweep(values: { sweep?: string }): boolean {
  return (values.sweep ?? '')
    .split(/\r?\n/)
    .some(line => line.trim() !== '' && !line.trim().startsWith('#'));
}

/**
 * The live line under the sweep textarea: how many runs, and how they run
 * on the chosen backend; or what is wrong with the text. Null without a sweep.
 */
export function sweepSummary(
  text: string,
  cpus: number,
  parallel: boolean,
  trans: TranslationBundle = loadTrans()
): { text: string; ok: boolean } | null {
  if (!hasSweep({ sweep: text })) {
    return null;
  }
  const sweep = parseSweep(text, false, trans);
  if (sweep.errors.length) {
    return { text: sweep.errors.join('\n'), ok: false };
  }
  const n = sweep.count;
  if (!parallel) {
    return {
      text: trans._n(
        '→ %1 run, one after another',
        '→ %1 runs, one after another',
        n
      ),
      ok: true
    };
  }
  // A plural form per count: the runs', the CPUs' and the cores'. English
  // has always said "cores" even for one.
  const runs = trans._n('→ %1 run', '→ %1 runs', n);
  const perRun = trans._n('%1 CPU', '%1 CPUs', cpus);
  const cores = trans._n('%1 cores', '%1 cores', n * cpus);
  return {
    text: trans.__('%1, all at once: %2 × %3 = %4', runs, n, perRun, cores),
    ok: true
  };
}
