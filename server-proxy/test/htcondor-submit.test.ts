import {
  argumentsValue,
  buildSubmitLines,
  classAdString,
  displayValue,
  environmentValue,
  plainValue,
  renderSubmit,
  type SubmitInputs,
  SubmitValueError,
} from '../src/backends/condor-submit';
import { holdSentence } from '../src/backends/htcondor';

const EXPECTED_COMMANDS = [
  'universe',
  'executable',
  'transfer_executable',
  'arguments',
  'environment',
  'getenv',
  'initialdir',
  'output',
  'error',
  'log',
  'stream_output',
  'stream_error',
  'should_transfer_files',
  'request_cpus',
  'request_memory',
  'request_disk',
  'periodic_remove',
  'kill_sig',
  'accounting_group',
  'accounting_group_user',
  'batch_name',
  'notification',
  '+UserBatchJobId',
  '+UserBatchUser',
];

function inputs(over: Partial<SubmitInputs> = {}): SubmitInputs {
  return {
    jobId: 'mabc123',
    user: 'alice',
    account: 'g_dp02',
    name: 'fit residuals',
    python: '/work/main/.venv/bin/python',
    jobDir: '/shared/data/jobs/mabc123',
    outputDir: '/shared/root/batch-jobs/mabc123',
    cpus: 2,
    memoryMiB: 1024,
    diskKiB: 1048576,
    walltimeSeconds: 600,
    walltimeGraceSeconds: 30,
    environment: { BATCH_JOB_ID: 'mabc123' },
    ...over,
  };
}

/** Read a description the way condor_submit splits it: one command a line; `queue` is a command too. */
function parseDescription(text: string): { commands: [string, string][]; queues: string[] } {
  const commands: [string, string][] = [];
  const queues: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (/^\s*queue\b/i.test(line)) {
      queues.push(line);
      continue;
    }
    const m = /^([^=\s]+)\s*=\s?(.*)$/.exec(line);
    if (!m) throw new Error(`not a command line: ${line}`);
    commands.push([m[1], m[2]]);
  }
  return { commands, queues };
}

/** What condor_submit makes of a value: $(DOLLAR) is its literal dollar; any other $ would be a macro. */
function unmacro(value: string): string {
  if (/\$(?!\(DOLLAR\))/.test(value)) throw new Error(`value has an unescaped $: ${value}`);
  return value.replace(/\$\(DOLLAR\)/g, '$');
}

/** The "new syntax" of arguments: "'a' 'b'" with '' and "" inside. */
function parseNewArgs(value: string): string[] {
  expect(value.startsWith('"') && value.endsWith('"')).toBe(true);
  const inner = unmacro(value.slice(1, -1)).replace(/""/g, '"');
  const args: string[] = [];
  const re = /'((?:[^']|'')*)'/g;
  let m: RegExpExecArray | null;
  let rest = inner;
  while ((m = re.exec(inner)) !== null) {
    args.push(m[1].replace(/''/g, "'"));
    rest = rest.replace(m[0], '');
  }
  expect(rest.trim()).toBe('');
  return args;
}

const ATTACKS = [
  'x\nqueue 100',
  'x\r\n+Evil = 1',
  'x\u2028executable = /bin/sh',
  'queue 5',
  '+Attr = 1',
  '$(HOME)',
  '$ENV(SECRET)',
  '$$(Memory)',
  `it's "quoted"`,
  'back\\',
];

describe('HTCondor submit description', () => {
  it('has exactly the expected commands and one queue statement', () => {
    const text = renderSubmit(buildSubmitLines(inputs()));
    const { commands, queues } = parseDescription(text);
    expect(commands.map(([c]) => c)).toEqual(EXPECTED_COMMANDS);
    expect(queues).toEqual(['queue 1']);
    const get = (c: string) => commands.find(([k]) => k === c)?.[1];
    expect(get('accounting_group')).toBe('g_dp02');
    expect(get('accounting_group_user')).toBe('alice');
    expect(get('request_cpus')).toBe('2');
    expect(get('request_memory')).toBe('1024');
    expect(get('+UserBatchJobId')).toBe('"mabc123"');
    expect(get('periodic_remove')).toContain('> 630');
    expect(parseNewArgs(get('arguments') ?? '')).toEqual(['-m', 'user_batch.runner', '/shared/data/jobs/mabc123']);
  });

  it('runs a pipeline runner in the local universe, walltime counted from its start there, all else unchanged', () => {
    const parse = (local: boolean) => parseDescription(renderSubmit(buildSubmitLines(inputs({ localUniverse: local })))).commands;
    const local = parse(true);
    const vanilla = parse(false);
    expect(local.map(([c]) => c)).toEqual(EXPECTED_COMMANDS);
    const get = (cs: [string, string][], c: string) => cs.find(([k]) => k === c)?.[1];
    expect(get(vanilla, 'universe')).toBe('vanilla');
    expect(get(local, 'universe')).toBe('local');
    expect(get(local, 'periodic_remove')).toBe('(JobStatus == 2) && (time() - JobCurrentStartDate > 630)');
    expect(local.filter(([c]) => c !== 'universe' && c !== 'periodic_remove')).toEqual(
      vanilla.filter(([c]) => c !== 'universe' && c !== 'periodic_remove'),
    );
  });

  it.each(ATTACKS)('a job name %j stays one literal batch_name', name => {
    const text = renderSubmit(buildSubmitLines(inputs({ name })));
    const { commands, queues } = parseDescription(text);
    expect(commands.map(([c]) => c)).toEqual(EXPECTED_COMMANDS);
    expect(queues).toEqual(['queue 1']);
    const batch = unmacro(commands.find(([c]) => c === 'batch_name')?.[1] ?? '');
    // control characters become spaces; quotes and a trailing backslash cannot end the value
    expect(batch).toBe(
      name
        // eslint-disable-next-line no-control-regex -- the expected value is built by replacing control characters
        .replace(/[\u0000-\u001f\u2028]+/g, ' ')
        .replace(/"/g, "'")
        .replace(/\\/g, '/')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    expect(batch).not.toMatch(/[\n\r"\\]/);
  });

  it.each(ATTACKS.filter(a => !/[\n\r\u2028]/.test(a)))('an argument or environment value %j arrives literally', value => {
    expect(parseNewArgs(argumentsValue(['-m', value]))).toEqual(['-m', value]);
    const env = environmentValue({ P: value });
    expect(env).not.toMatch(/\$(?!\(DOLLAR\))/);
    const m = /^"P=(.*)"$/.exec(env);
    expect(parseNewArgs(`"${m?.[1] ?? ''}"`)).toEqual([value]);
  });

  it.each(['x\nqueue 100', 'x\r\n+Evil = 1', 'a\u2028b'])(
    'rejects a line break in an argument, environment, path or attribute: %j',
    value => {
      expect(() => argumentsValue([value])).toThrow(SubmitValueError);
      expect(() => environmentValue({ P: value })).toThrow(SubmitValueError);
      expect(() => plainValue('path', value)).toThrow(SubmitValueError);
      expect(() => classAdString('attr', value)).toThrow(SubmitValueError);
      expect(() => buildSubmitLines(inputs({ outputDir: `/shared/${value}` }))).toThrow(SubmitValueError);
    },
  );

  it('a sweep is one cluster: "queue Item from" our item file, each proc with its item number and its own log', () => {
    const text = renderSubmit(
      buildSubmitLines(inputs({ sweep: true, jobDir: '/shared/$(HOME)/jobs/m1' })),
      '/shared/$(HOME)/jobs/m1/items.txt',
    );
    const { commands, queues } = parseDescription(text);
    expect(queues).toEqual(['queue Item from /shared/$(DOLLAR)(HOME)/jobs/m1/items.txt']);
    expect(commands.map(([c]) => c)).toEqual([...EXPECTED_COMMANDS, '+UserBatchItem']);
    const get = (c: string) => commands.find(([k]) => k === c)?.[1] ?? '';
    // $(Item) is the only macro left for HTCondor to expand; the user's "$(HOME)" stays literal
    expect(get('+UserBatchItem')).toBe('$(Item)');
    expect(get('output')).toBe('/shared/$(DOLLAR)(HOME)/jobs/m1/items/$(Item).log');
    expect(get('error')).toBe(get('output'));
    expect(get('arguments')).toBe(`"'-m' 'user_batch.runner' '/shared/$(DOLLAR)(HOME)/jobs/m1' '--item' '$(Item)'"`);
    const macros = text
      .split('\n')
      .filter(l => !l.startsWith('#'))
      .join('\n')
      .match(/\$\((?!DOLLAR\))[^)]*\)/g);
    expect(new Set(macros)).toEqual(new Set(['$(Item)']));
  });

  it('a path with "+Attr = 1", quotes and $(HOME) stays one literal value', () => {
    const path = '/shared/root/+Attr = 1/"q"/$(HOME)';
    const { commands } = parseDescription(renderSubmit(buildSubmitLines(inputs({ outputDir: path }))));
    expect(commands.map(([c]) => c)).toEqual(EXPECTED_COMMANDS);
    expect(unmacro(commands.find(([c]) => c === 'initialdir')?.[1] ?? '')).toBe(path);
    expect(() => plainValue('path', '/ends/with\\')).toThrow(SubmitValueError);
    expect(() => plainValue('path', ' /lead')).toThrow(SubmitValueError);
  });

  it('ClassAd strings escape quotes, backslashes and dollars', () => {
    expect(classAdString('x', 'a"b\\c$(HOME)')).toBe('"a\\"b\\\\c$(DOLLAR)(HOME)"');
  });

  it.each(['alice\nqueue', 'g dp02', '"alice"', '$(USER)', 'a=b', ''])('refuses %j as an accounting group or user', bad => {
    expect(() => buildSubmitLines(inputs({ account: bad }))).toThrow(SubmitValueError);
    expect(() => buildSubmitLines(inputs({ user: bad }))).toThrow(SubmitValueError);
  });

  it('refuses a job id that is not alphanumeric', () => {
    expect(() => buildSubmitLines(inputs({ jobId: 'a"b' }))).toThrow(SubmitValueError);
  });

  it('an empty or blank name still gives a batch_name', () => {
    expect(displayValue('\n\t ')).toBe('job');
  });

  it('says hold reasons in plain words', () => {
    expect(holdSentence(34, 'memory usage exceeded')).toMatch(/needs more memory/);
    expect(holdSentence(1, 'via condor_hold (by user batchuser)')).toMatch(/someone put it on hold.*code 1.*via condor_hold/);
    expect(holdSentence(999, null)).toMatch(/Held by HTCondor.*code 999/);
  });
});
