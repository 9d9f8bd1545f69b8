/**
 * "Run script in batch": the spec of a Python file, and which widgets the
 * command treats as one.
 */
import { editorScript } from '../script';
import {
  buildJobSpec,
  defaultJobName,
  isPythonFile,
  ISubmitValues,
  scriptJobSource
} from '../spec';
import { Batch, DEFAULT_SETTINGS } from '../tokens';
import { initialValues } from '../widgets/submit';

const SCRIPT = 'import sys\nprint("fit", threshold, sys.argv[1:])\n';

const values = (patch: Partial<ISubmitValues> = {}): ISubmitValues => ({
  ...initialValues(defaultJobName('work/fit.py', 'script'), DEFAULT_SETTINGS),
  backend: 'local',
  account: 'alice',
  ...patch
});

describe('buildJobSpec for a script', () => {
  it('names the job after the file and sends its text with the parameters', () => {
    const spec = buildJobSpec(
      scriptJobSource('work/fit.py', SCRIPT),
      values({ parameters: 'threshold = 0.5' }),
      'key-1'
    );
    expect(spec).toEqual<Batch.IJobSpec>({
      name: 'fit',
      kind: 'script',
      source: { notebookPath: 'work/fit.py', script: { content: SCRIPT } },
      parameters: { threshold: 0.5 },
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
      backend: 'local',
      account: 'alice',
      idempotencyKey: 'key-1'
    });
  });

  it('sweeps a script like cells, and never sends setup cells', () => {
    const spec = buildJobSpec(
      scriptJobSource('fit.py', SCRIPT),
      values({
        sweep: 'threshold = [1, 2]',
        setup: 'above',
        chosenSetupIds: ['x']
      }),
      'k'
    );
    expect(spec.sweep).toEqual([{ threshold: 1 }, { threshold: 2 }]);
    expect(spec.source.cells).toBeUndefined();
    expect(spec.source.notebook).toBeUndefined();
  });

  it('keeps arguments and an empty file as they are', () => {
    const source = scriptJobSource('fit.py', '');
    source.script!.args = ['--fast', 'a b'];
    const spec = buildJobSpec(source, values(), 'k');
    expect(spec.source.script).toEqual({
      content: '',
      args: ['--fast', 'a b']
    });
  });

  it('refuses a script whose text could not be read', () => {
    expect(() =>
      buildJobSpec({ kind: 'script', notebookPath: 'fit.py' }, values(), 'k')
    ).toThrow('The script could not be read: open the file and try again.');
  });
});

describe('which files run as scripts', () => {
  it('takes .py files only', () => {
    expect(isPythonFile('a/fit.py')).toBe(true);
    expect(isPythonFile('a/FIT.PY')).toBe(true);
    expect(isPythonFile('a/fit.ipynb')).toBe(false);
    expect(isPythonFile('a/notes.txt')).toBe(false);
  });

  it("reads an editor's text from its model, unsaved edits included", async () => {
    const editor = (localPath: string) => ({
      context: { localPath, model: { toString: () => 'print("unsaved")' } }
    });
    const target = editorScript(editor('work/fit.py'));
    expect(target?.path).toBe('work/fit.py');
    expect(await target!.read()).toBe('print("unsaved")');
    expect(editorScript(editor('work/notes.md'))).toBeNull();
    expect(editorScript({})).toBeNull();
    expect(editorScript(null)).toBeNull();
  });
});
