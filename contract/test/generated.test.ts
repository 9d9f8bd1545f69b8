import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles, REGENERATE } from '../src/generate/files';

const root = join(__dirname, '..', '..');

describe('files generated from the contract', () => {
  it.each([...generatedFiles()].map(([path, text]) => [path, text]))('%s is what the contract generates now', (path, text) => {
    const file = join(root, path);
    const onDisk = existsSync(file) ? readFileSync(file, 'utf8') : null;
    if (onDisk !== text) {
      throw new Error(
        `${path} is ${onDisk === null ? 'missing' : 'stale'}: the contract has changed since it was generated. Run \`${REGENERATE}\` and commit the result.`,
      );
    }
  });

  it('keeps every name the Python runner imports from user_batch/jobfiles.py', () => {
    const python = generatedFiles().get('user_batch/jobfiles.py') ?? '';
    for (const [name, value] of Object.entries({
      RUN_JSON: '"run.json"',
      CATALOG_JSON: '"catalog.json"',
      SWEEP_JSON: '"sweep.json"',
      INPUT_NOTEBOOK: '"input.ipynb"',
      LAUNCH_JSON: '"launch.json"',
      ENV_JSON: '"env.json"',
      PROGRESS_JSON: '"progress.json"',
      ERROR_JSON: '"error.json"',
      EXIT_JSON: '"exit.json"',
      PARTITIONS_JSON: '"partitions.json"',
      PREVIEW_ARROW: '"preview.arrow"',
      PREVIEW_JSON: '"preview.json"',
      CATALOG_PROVENANCE_JSON: '"catalog-provenance.json"',
      ITEMS_DIR: '"items"',
      EXIT_OK: '0',
      EXIT_CELL_ERROR: '1',
      EXIT_RUNNER_ERROR: '2',
      EXIT_WALLTIME: '124',
      EXIT_CANCELLED: '143',
    })) {
      expect(python).toMatch(new RegExp(`^${name} = ${value}(\\s|$)`, 'm'));
    }
  });
});
