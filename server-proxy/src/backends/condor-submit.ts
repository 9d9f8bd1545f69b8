/**
 * HTCondor submit descriptions built from typed (command, value) pairs, never by pasting text.
 *
 * The submit language reads `command = value` a line, to the end of the line (trailing spaces
 * and a trailing `\` continuation matter), expands `$(...)` macros (and `$ENV()`, `$RANDOM_...`,
 * `$$(...)` match-time references) anywhere in a value, and treats `queue`, `include` and `+Attr`
 * at the start of a line as commands. So every value here:
 *   - may not contain a line break or other control character (rejected, or for display-only
 *     values replaced by a space),
 *   - has every `$` written as `$(DOLLAR)` (HTCondor's predefined macro for a literal dollar),
 *   - is quoted by the rules of its command (arguments/environment: the "new syntax";
 *     `+Attr`: a ClassAd string literal),
 *   - and the command names come only from this module's types, never from a user.
 */

/** Commands this backend writes; the only command names that can appear in a description. */
export type SubmitCommand =
  | 'universe'
  | 'executable'
  | 'arguments'
  | 'environment'
  | 'getenv'
  | 'initialdir'
  | 'output'
  | 'error'
  | 'log'
  | 'stream_output'
  | 'stream_error'
  | 'should_transfer_files'
  | 'transfer_executable'
  | 'request_cpus'
  | 'request_memory'
  | 'request_disk'
  | 'periodic_remove'
  | 'kill_sig'
  | 'accounting_group'
  | 'accounting_group_user'
  | 'batch_name'
  | 'notification'
  | '+UserBatchJobId'
  | '+UserBatchUser'
  | '+UserBatchItem';

/** The only macro this module writes unescaped: a sweep item's number, from `queue Item from FILE`. */
export const ITEM_MACRO = '$(Item)';
/** An argument that is the item number (not a user string, so it keeps its `$`). */
export const ItemArgument: unique symbol = Symbol('item argument');
export type Argument = string | typeof ItemArgument;

export class SubmitValueError extends Error {}

// eslint-disable-next-line no-control-regex -- matching control characters is the point: they cannot go into a submit file
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** A value may never break the line it is on. */
function assertOneLine(what: string, value: string): void {
  if (CONTROL.test(value)) throw new SubmitValueError(`${what} contains a line break or control character`);
}

/** `$` → `$(DOLLAR)`: HTCondor expands no macro in the result, and reads the `$` literally. */
export function escapeDollars(value: string): string {
  return value.replace(/\$/g, '$(DOLLAR)');
}

/** A plain value (a path, a word): one line, no leading/trailing space, no trailing `\`, dollars escaped. */
export function plainValue(what: string, value: string): string {
  assertOneLine(what, value);
  if (value !== value.trim()) throw new SubmitValueError(`${what} has leading or trailing spaces`);
  if (value.length === 0) throw new SubmitValueError(`${what} is empty`);
  if (value.endsWith('\\')) throw new SubmitValueError(`${what} ends with a backslash (a line continuation)`);
  return escapeDollars(value);
}

/** A display-only text (the batch name): control characters become spaces, quotes and backslashes are replaced. */
export function displayValue(value: string): string {
  const cleaned = value.replace(new RegExp(CONTROL.source, 'g'), ' ').replace(/"/g, "'").replace(/\\/g, '/').replace(/\s+/g, ' ').trim();
  return escapeDollars(cleaned.length ? cleaned : 'job');
}

/** HTCondor accounting names: one identifier-like word (letters, digits, `_`, `-`, `.`, `@`). */
export function identifierValue(what: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.@-]{0,127}$/.test(value)) {
    throw new SubmitValueError(`${what} "${value.replace(CONTROL, '?')}" is not a valid HTCondor name (letters, digits, _ - . @)`);
  }
  return value;
}

export function integerValue(what: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new SubmitValueError(`${what} must be a non-negative integer`);
  return String(value);
}

/** One argument in the "new syntax": single-quoted, `'` → `''`, `"` → `""`. */
function quoteArg(what: string, arg: string): string {
  assertOneLine(what, arg);
  return `'${escapeDollars(arg).replace(/'/g, "''").replace(/"/g, '""')}'`;
}

/** `arguments = "'a' 'b c'"`: each argument arrives at the program exactly as given. */
export function argumentsValue(args: readonly Argument[]): string {
  return `"${args.map((a, i) => (a === ItemArgument ? `'${ITEM_MACRO}'` : quoteArg(`argument ${i + 1}`, a))).join(' ')}"`;
}

/** `environment = "NAME='value' ..."`: names are identifiers, values quoted like arguments. */
export function environmentValue(env: Readonly<Record<string, string>>): string {
  const parts = Object.entries(env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SubmitValueError(`environment name "${name}" is not an identifier`);
    return `${name}=${quoteArg(`environment ${name}`, value)}`;
  });
  return `"${parts.join(' ')}"`;
}

/** A ClassAd string literal for `+Attr = ...`: `\` and `"` escaped, dollars escaped for the submit language. */
export function classAdString(what: string, value: string): string {
  assertOneLine(what, value);
  return `"${escapeDollars(value.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

export type SubmitLine = readonly [SubmitCommand, string];

/**
 * The description: one `command = value` line per pair, then exactly one `queue`: `queue 1`, or
 * for a sweep `queue Item from FILE` (FILE holds the item numbers 0..N-1, one per line, written by us).
 */
export function renderSubmit(lines: readonly SubmitLine[], itemsFile?: string): string {
  const seen = new Set<string>();
  const out: string[] = ['# Written by the User Batch proxy; every value is escaped (see condor-submit.ts).'];
  for (const [command, value] of lines) {
    if (seen.has(command)) throw new SubmitValueError(`submit command ${command} given twice`);
    seen.add(command);
    assertOneLine(command, value);
    out.push(`${command} = ${value}`);
  }
  out.push(itemsFile === undefined ? 'queue 1' : `queue Item from ${plainValue('items file', itemsFile)}`, '');
  return out.join('\n');
}

export interface SubmitInputs {
  jobId: string;
  user: string;
  account: string;
  name: string;
  python: string;
  jobDir: string;
  outputDir: string;
  cpus: number;
  memoryMiB: number;
  diskKiB: number;
  walltimeSeconds: number;
  /** How long past the walltime HTCondor waits for the runner to stop itself before removing the job. */
  walltimeGraceSeconds: number;
  environment: Record<string, string>;
  /** A sweep: one proc per item, each running `--item $(Item)` with its own log. */
  sweep?: boolean;
  /**
   * Run the runner in the local universe, on the submit host without taking a slot: a pipeline's
   * runner only drives `bps submit`, and the DAG it submits needs every slot for the quanta.
   */
  localUniverse?: boolean;
}

/** The job as HTCondor sees it: the same runner as the local backend, on the shared staging folder. */
export function buildSubmitLines(i: SubmitInputs): SubmitLine[] {
  if (!/^[A-Za-z0-9]{1,64}$/.test(i.jobId)) throw new SubmitValueError('job id is not alphanumeric');
  const limit = i.walltimeSeconds + i.walltimeGraceSeconds;
  // a sweep item's log is items/<n>.log (the folder exists before submit; the runner makes items/<n>/)
  const log = i.sweep
    ? `${plainValue('log path', `${i.jobDir}/items`)}/${ITEM_MACRO}.log`
    : plainValue('log path', `${i.jobDir}/output.log`);
  // a local-universe job has no JobCurrentStartExecutingDate (no starter on an execute slot)
  const startedAt = i.localUniverse ? 'JobCurrentStartDate' : 'JobCurrentStartExecutingDate';
  return [
    ['universe', i.localUniverse ? 'local' : 'vanilla'],
    ['executable', plainValue('python', i.python)],
    ['transfer_executable', 'false'],
    ['arguments', argumentsValue(['-m', 'user_batch.runner', i.jobDir, ...(i.sweep ? (['--item', ItemArgument] as Argument[]) : [])])],
    ['environment', environmentValue(i.environment)],
    ['getenv', 'false'],
    ['initialdir', plainValue('output folder', i.outputDir)],
    ['output', log],
    ['error', log],
    ['log', plainValue('user log path', `${i.jobDir}/condor.log`)],
    ['stream_output', 'true'],
    ['stream_error', 'true'],
    ['should_transfer_files', 'NO'],
    ['request_cpus', integerValue('cpus', i.cpus)],
    ['request_memory', integerValue('memory', i.memoryMiB)],
    ['request_disk', integerValue('disk', i.diskKiB)],
    // walltime enforced by HTCondor too: the runner stops itself at the walltime, this is the backstop
    ['periodic_remove', `(JobStatus == 2) && (time() - ${startedAt} > ${integerValue('walltime', limit)})`],
    ['kill_sig', 'SIGTERM'],
    ['accounting_group', identifierValue('account', i.account)],
    ['accounting_group_user', identifierValue('user', i.user)],
    ['batch_name', displayValue(i.name)],
    ['notification', 'Never'],
    ['+UserBatchJobId', classAdString('job id', i.jobId)],
    ['+UserBatchUser', classAdString('user', i.user)],
    ...(i.sweep ? [['+UserBatchItem', ITEM_MACRO] as SubmitLine] : []),
  ];
}
