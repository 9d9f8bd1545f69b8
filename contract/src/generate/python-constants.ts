import { EXIT_CANCELLED, EXIT_CELL_ERROR, EXIT_CODES, EXIT_OK, EXIT_RUNNER_ERROR, EXIT_WALLTIME, JOB_DIR } from '../jobdir';

/** user_batch/jobfiles.py: the job folder's names and the exit codes, for the runner and the catalog driver. */
export function pythonJobFiles(): string {
  const byWriter = (writer: 'proxy' | 'runner'): string[] =>
    Object.values(JOB_DIR)
      .filter(e => e.writtenBy === writer)
      .map(e => `${e.python} = ${JSON.stringify(e.name)}  # ${e.about}`);
  const exits: [string, number, string][] = [
    ['EXIT_OK', EXIT_OK, 'ok'],
    ['EXIT_CELL_ERROR', EXIT_CELL_ERROR, 'cell_error, partition_error, items_failed, quanta_failed'],
    ['EXIT_RUNNER_ERROR', EXIT_RUNNER_ERROR, 'runner_error'],
    ['EXIT_WALLTIME', EXIT_WALLTIME, 'walltime'],
    ['EXIT_CANCELLED', EXIT_CANCELLED, 'cancelled'],
  ];
  const reasons = Object.entries(EXIT_CODES).map(([reason, code]) => `    ${JSON.stringify(reason)}: ${code},`);
  return [
    '"""The job folder\'s file names and the runner\'s exit codes: the proxy ⇄ runner seam.',
    '',
    'GENERATED from the contract package (contract/src/jobdir.ts); do not edit. After changing the',
    'contract, run `npm run generate -w contract`; a test fails while this file is stale.',
    '',
    'The proxy writes the inputs (``run.json``, ``catalog.json``, ``sweep.json``) and reads back',
    'everything else. These names are the contract\'s (``docs/contract.md``, "Job directory").',
    '"""',
    '',
    '# Written by the proxy, read by the runner.',
    ...byWriter('proxy'),
    '',
    '# Written by the runner, read by the proxy.',
    ...byWriter('runner'),
    '',
    '# Exit codes (also ``exitCode`` in exit.json) and their reasons.',
    ...exits.map(([name, code, why]) => `${name} = ${code}  # ${why}`),
    '',
    "# exit.json's ``reason`` and the exit code that goes with it.",
    'EXIT_CODES = {',
    ...reasons,
    '}',
    '',
  ].join('\n');
}
