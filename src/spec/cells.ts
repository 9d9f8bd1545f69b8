/**
 * Which notebook cells a job runs: the main cells (selected or tagged) and
 * the setup cells above them; and the names and labels made from cells.
 */
import { runsWholeFile } from '../kinds';
import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

/**
 * What the spec builder needs to know of a cell.
 */
export interface ICellInfo {
  id: string;
  type: string;
  source: string;
  tags: string[];
}

/** The tag that marks the cells "Run in batch" picks by default. */
export const BATCH_TAG = 'batch';

export type SetupMode = 'none' | 'above' | 'chosen';

/** Where a cells job's main cells come from. */
export type CellsFrom = 'selection' | 'tags';

/** One way to pick a job's cells: its main cells and the setup candidates above them. */
export interface ICellsChoice {
  main: ICellInfo[];
  setupCandidates: ICellInfo[];
}

/**
 * What "Run in batch" may run: the selected code cells, and the code cells
 * tagged `batch`; `from` is the rule that applies by default. The selection,
 * when it holds a code cell, is what runs; the tagged cells only when no code
 * cell is selected (the dialog offers the other choice when both exist).
 */
export function cellChoices(
  cells: ReadonlyArray<ICellInfo>,
  selected: ReadonlyArray<number>
): {
  selection: ICellsChoice | null;
  tags: ICellsChoice | null;
  from: CellsFrom;
} {
  const choice = (main: ICellInfo[]): ICellsChoice | null =>
    main.length
      ? { main, setupCandidates: setupCandidates(cells, main) }
      : null;
  const picked = [...new Set(selected)]
    .sort((a, b) => a - b)
    .map(index => cells[index])
    .filter(cell => cell !== undefined && cell.type === 'code');
  const tagged = cells.filter(
    cell => cell.type === 'code' && cell.tags.includes(BATCH_TAG)
  );
  const selection = choice(picked);
  const tags = choice(tagged);
  return { selection, tags, from: selection || !tags ? 'selection' : 'tags' };
}

/**
 * The code cells that may serve as setup: those above the first main cell
 * that are not main cells themselves.
 */
export function setupCandidates(
  cells: ReadonlyArray<ICellInfo>,
  main: ReadonlyArray<ICellInfo>
): ICellInfo[] {
  const mainIds = new Set(main.map(cell => cell.id));
  const first = cells.findIndex(cell => mainIds.has(cell.id));
  if (first < 0) {
    return [];
  }
  return cells
    .slice(0, first)
    .filter(cell => cell.type === 'code' && !mainIds.has(cell.id));
}

/**
 * The setup cells for a mode: none, every candidate, or the chosen ones (in
 * notebook order).
 */
export function selectSetupCells(
  candidates: ReadonlyArray<ICellInfo>,
  mode: SetupMode,
  chosenIds: ReadonlyArray<string>
): ICellInfo[] {
  switch (mode) {
    case 'none':
      return [];
    case 'above':
      return candidates.slice();
    case 'chosen': {
      const chosen = new Set(chosenIds);
      return candidates.filter(cell => chosen.has(cell.id));
    }
  }
}

/**
 * The first non-blank line of a cell, for labels.
 */
export function firstLine(
  source: string,
  max = 60,
  trans: TranslationBundle = loadTrans()
): string {
  const line = source
    .split('\n')
    .map(l => l.trim())
    .find(l => l.length > 0);
  if (!line) {
    return trans.__('(empty cell)');
  }
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A default job name: the notebook's name and what runs.
 */
export function defaultJobName(
  notebookPath: string,
  kind: Batch.JobKind,
  main: ReadonlyArray<ICellInfo> = [],
  trans: TranslationBundle = loadTrans()
): string {
  const base = (notebookPath.split('/').pop() ?? notebookPath).replace(
    /\.(ipynb|py)$/,
    ''
  );
  let name: string;
  if (runsWholeFile(kind) || main.length === 0) {
    name = base || trans.__('notebook');
  } else {
    const first = firstLine(main[0].source, 60, trans);
    const others = main.length - 1;
    name =
      others > 0
        ? trans._n(
            '%2: %3 (+%1 cell)',
            '%2: %3 (+%1 cells)',
            others,
            base,
            first
          )
        : trans.__('%1: %2', base, first);
  }
  return name.slice(0, 200);
}
