import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import {
  DEFAULT_RESOURCES,
  defaultOutputCollection,
  JOB_FILES,
  outputRunName,
  type PipelineDefinition,
  type PipelineFile,
  PipelinePlanErrorFile,
  PipelinePlanFile,
  type Resources,
  type StandardPipeline,
} from '@user-batch/contract';
import type { PipelinesConfig } from './config';
import { HttpError } from './errors';
import { canonicalJson, type CodeBlob, readJsonFile, sha256, writeFileAtomic } from './jobdir';

const run = promisify(execFile);

/** How a pipeline run costs less, for the quota sentences. */
export const PIPELINE_ADVICE = 'Narrow the data query or run fewer task labels';
/** Plans not submitted within this time are removed (their output run's timestamp goes stale too). */
const PLAN_LIFETIME_MS = 3600_000;
const OWNER_FILE = 'owner.json';
/** The planner's exit code when the request cannot be planned (its error file says why). */
const PLANNER_USER_ERROR = 2;
const USED_FILE = 'used';

/** A quantum graph built and waiting to be submitted, in its plan folder. */
export interface StoredPlan {
  planId: string;
  dir: string;
  file: PipelineFile;
  plan: PipelinePlanFile;
  estimate: { coreHours: number; secondsPerQuantum: number };
  /** The pipeline YAML and override files as they were read for the graph, for the job's code list. */
  code: CodeBlob[];
}

interface Owner {
  user: string;
  outputCollection: string;
  /** The definition planned, without planId: a submit must carry the same. */
  definition: Omit<PipelineDefinition, 'planId'>;
  estimate: StoredPlan['estimate'];
  code: CodeBlob[];
}

const inside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
const realOr = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};
/** A local file's text as a code blob; none for a URI the middleware reads itself (a standard pipeline's). */
function codeOf(path: string, kind: 'pipeline' | 'config-file'): CodeBlob[] {
  if (!isAbsolute(path)) return [];
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return [{ entry: { sha256: sha256(content), kind, cellId: null, role: null, bytes: Buffer.byteLength(content) }, content }];
}
const withoutPlanId = ({ planId: _p, ...rest }: PipelineDefinition): Omit<PipelineDefinition, 'planId'> => rest;

export interface PipelinePlannerOptions {
  rootDir: string;
  /** Plans live in DATA_DIR/pipeline-plans, on the job folders' file system (a plan moves into its job by rename). */
  dataDir: string;
  python: string;
  site: PipelinesConfig;
}

/**
 * Pipeline plans: resolves a definition to absolute paths the user may read, builds its quantum
 * graph with the Python planner (`python -m user_batch.pipeline_plan DIR`) and keeps it, once, for
 * the submit that runs it.
 */
export class PipelinePlanner {
  readonly plansDir: string;

  constructor(private readonly opts: PipelinePlannerOptions) {
    this.plansDir = join(opts.dataDir, 'pipeline-plans');
  }

  /** Output runs given to plans in the last hour: two plans made in one second must not share one. */
  private readonly issuedRuns = new Map<string, number>();

  /** The output run for a new plan: named to the second, a second later if that name was given already. */
  private freshOutputRun(outputCollection: string): string {
    const now = Date.now();
    for (const [run, at] of this.issuedRuns) if (now - at > PLAN_LIFETIME_MS) this.issuedRuns.delete(run);
    let at = now;
    let run = outputRunName(outputCollection, new Date(at));
    while (this.issuedRuns.has(run)) {
      at += 1000;
      run = outputRunName(outputCollection, new Date(at));
    }
    this.issuedRuns.set(run, now);
    return run;
  }

  standardList(): StandardPipeline[] {
    return this.opts.site.standard.map(p => ({
      name: p.name,
      description: p.description,
      pipeline: p.pipeline,
      inputCollections: p.inputCollections ?? null,
      dataQuery: p.dataQuery ?? null,
    }));
  }

  /** Build the graph for a definition into a fresh plan folder; a planner refusal is a 400 with its sentence, and leaves nothing. */
  async plan(
    user: string,
    name: string,
    definition: PipelineDefinition,
    resources: Resources = { ...DEFAULT_RESOURCES },
  ): Promise<StoredPlan> {
    this.cleanup();
    const outputCollection = definition.outputCollection ?? defaultOutputCollection(user, name);
    const file: PipelineFile = {
      jobId: null,
      butlerRepo: this.butlerRepo(definition.butlerRepo),
      pipeline: this.pipelineFile(definition),
      labels: definition.labels ?? null,
      inputCollections: definition.inputCollections,
      outputCollection,
      outputRun: this.freshOutputRun(outputCollection),
      dataQuery: definition.dataQuery ?? this.standard(definition)?.dataQuery ?? '',
      configOverrides: definition.configOverrides ?? [],
      configFiles: (definition.configFiles ?? []).map(f => ({ label: f.label, path: this.userFile(f.path, 'config override file') })),
      cpus: resources.cpus,
      walltimeSeconds: resources.walltimeSeconds,
    };
    const planId = randomBytes(16).toString('hex');
    const dir = join(this.plansDir, planId);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileAtomic(join(dir, JOB_FILES.pipeline), JSON.stringify(file, null, 2));
      // read before the planner reads them, so an edit during planning shows as a different hash, not a silent one
      const code = [...codeOf(file.pipeline, 'pipeline'), ...file.configFiles.flatMap(f => codeOf(f.path, 'config-file'))];
      const plan = await this.runPlanner(dir);
      const estimate = this.estimate(plan);
      const owner: Owner = { user, outputCollection, definition: withoutPlanId(definition), estimate, code };
      writeFileAtomic(join(dir, OWNER_FILE), JSON.stringify(owner));
      return { planId, dir, file, plan, estimate, code };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Take a plan for a submit: it must be the user's, unused, and made from the same definition.
   * Marked used at once (no await between the check and the mark); `release` undoes it when the
   * submit is refused after all.
   */
  claim(user: string, name: string, definition: PipelineDefinition & { planId: string }): StoredPlan {
    const dir = join(this.plansDir, definition.planId);
    const owner = readJsonFile(join(dir, OWNER_FILE)) as Owner | null;
    const notFound = new HttpError(
      400,
      'plan_not_found',
      `There is no plan ${definition.planId} of yours: plans are kept for an hour and run once. Plan the pipeline again and submit with the new planId.`,
    );
    if (!owner || owner.user !== user) throw notFound;
    // before the graph's presence: a submitted plan's graph has moved into its job
    if (existsSync(join(dir, USED_FILE))) {
      throw new HttpError(
        409,
        'plan_not_found',
        'This plan was already submitted: its output run would collide with that job. Plan the pipeline again for a new run.',
      );
    }
    const parsedPlan = PipelinePlanFile.safeParse(readJsonFile(join(dir, JOB_FILES.pipelinePlan)));
    const file = readJsonFile(join(dir, JOB_FILES.pipeline)) as PipelineFile | null;
    if (!parsedPlan.success || !file) throw notFound;
    const asked = { ...withoutPlanId(definition) };
    const outputCollection = definition.outputCollection ?? defaultOutputCollection(user, name);
    const differs = Object.keys({ ...owner.definition, ...asked }).filter(
      k => canonicalJson(owner.definition[k as keyof typeof asked]) !== canonicalJson(asked[k as keyof typeof asked]),
    );
    if (outputCollection !== owner.outputCollection) differs.push('outputCollection (the job name sets it)');
    if (differs.length > 0) {
      throw new HttpError(
        400,
        'invalid_request',
        `This job's pipeline differs from the plan ${definition.planId} (${differs.join(', ')}); the graph that was estimated must be the one that runs. Plan again, or submit what was planned.`,
      );
    }
    writeFileSync(join(dir, USED_FILE), '');
    return { planId: definition.planId, dir, file, plan: parsedPlan.data, estimate: owner.estimate, code: owner.code };
  }

  /**
   * A claimed plan as its job's backend runs it: the engine, who runs it and the account charged
   * (BPS's accounting user and group), and on BPS the site's clustering.
   */
  forBackend(stored: StoredPlan, engine: 'pipetask' | 'bps', user: string, account: string): StoredPlan {
    const { clusterDimensions } = this.opts.site;
    const clustered = engine === 'bps' && clusterDimensions.length > 0 ? { clusterDimensions } : {};
    return { ...stored, file: { ...stored.file, engine, user, account, ...clustered } };
  }

  /** A claimed plan whose submit was refused (quota): usable again. */
  release(planId: string): void {
    rmSync(join(this.plansDir, planId, USED_FILE), { force: true });
  }

  /** A plan made for one submit that was refused: nothing of it is kept. */
  discard(planId: string): void {
    rmSync(join(this.plansDir, planId), { recursive: true, force: true });
  }

  /** Plans older than an hour, used or not. */
  cleanup(now: number = Date.now()): void {
    let names: string[];
    try {
      names = readdirSync(this.plansDir);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = join(this.plansDir, name);
      try {
        if (now - statSync(dir).mtimeMs > PLAN_LIFETIME_MS) rmSync(dir, { recursive: true, force: true });
      } catch {
        // removed meanwhile
      }
    }
  }

  private estimate(plan: PipelinePlanFile): StoredPlan['estimate'] {
    const { secondsPerQuantum, taskSeconds } = this.opts.site;
    const seconds = plan.labels.reduce(
      (sum, l) => sum + l.quanta * (taskSeconds[l.label] ?? taskSeconds[l.taskClass] ?? secondsPerQuantum),
      0,
    );
    return {
      coreHours: seconds / 3600,
      secondsPerQuantum: plan.totalQuanta > 0 ? seconds / plan.totalQuanta : secondsPerQuantum,
    };
  }

  private async runPlanner(dir: string): Promise<PipelinePlanFile> {
    const timeoutSeconds = this.opts.site.planTimeoutSeconds;
    try {
      await run(this.opts.python, ['-m', 'user_batch.pipeline_plan', dir], {
        cwd: dir,
        timeout: timeoutSeconds * 1000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const refusal = PipelinePlanErrorFile.safeParse(readJsonFile(join(dir, JOB_FILES.pipelinePlanError)));
      if (refusal.success) {
        // exit 2: the request cannot be planned (the user's to fix); otherwise the planner broke (ours)
        const status = (err as { code?: unknown }).code === PLANNER_USER_ERROR ? 400 : 500;
        throw new HttpError(status, 'pipeline_plan_failed', refusal.data.message, { detail: refusal.data.detail });
      }
      if ((err as { killed?: boolean }).killed) {
        throw new HttpError(
          400,
          'pipeline_plan_failed',
          `Building the quantum graph took longer than ${timeoutSeconds} s and was stopped. Narrow the data query or run fewer task labels.`,
        );
      }
      throw err;
    }
    const parsed = PipelinePlanFile.safeParse(readJsonFile(join(dir, JOB_FILES.pipelinePlan)));
    if (!parsed.success || !existsSync(join(dir, JOB_FILES.pipelineGraph))) {
      throw new Error(`the pipeline planner exited 0 without a valid ${JOB_FILES.pipelinePlan} and ${JOB_FILES.pipelineGraph} in ${dir}`);
    }
    return parsed.data;
  }

  private standard(definition: PipelineDefinition): PipelinesConfig['standard'][number] | undefined {
    if (definition.standard === undefined) return undefined;
    const found = this.opts.site.standard.find(p => p.name === definition.standard);
    if (!found) {
      const names = this.opts.site.standard.map(p => p.name);
      throw new HttpError(
        404,
        'unknown_standard_pipeline',
        `There is no standard pipeline named "${definition.standard}"; this site offers ${names.length ? names.join(', ') : 'none'}.`,
      );
    }
    return found;
  }

  private pipelineFile(definition: PipelineDefinition): string {
    const standard = this.standard(definition);
    if (standard) return standard.pipeline;
    return this.userFile(definition.file ?? '', 'pipeline file');
  }

  /** A file under the Jupyter root, as a real path (a link cannot lead out of it). */
  private userFile(path: string, what: string): string {
    const root = realOr(this.opts.rootDir);
    let real: string;
    try {
      real = realpathSync(resolve(this.opts.rootDir, path));
    } catch {
      throw new HttpError(400, 'invalid_path', `There is no ${what} at ${path} in your Jupyter folder.`);
    }
    if (!inside(real, root) || !statSync(real).isFile()) {
      throw new HttpError(400, 'invalid_path', `The ${what} ${path} is not a file in your Jupyter folder.`);
    }
    return real;
  }

  /**
   * The butler repository, as a real path inside the Jupyter root or a site repository folder.
   * Outside them the answer is the same whether the path exists or not.
   */
  private butlerRepo(path: string): string {
    const roots = [this.opts.rootDir, ...this.opts.site.repoRoots].map(realOr);
    const wanted = isAbsolute(path) ? resolve(path) : resolve(this.opts.rootDir, path);
    const refuse = (): HttpError =>
      new HttpError(
        403,
        'repo_not_allowed',
        `Butler repositories are read from your Jupyter folder or the site's repository folders (${this.opts.site.repoRoots.join(', ') || 'none configured'}); ${path} is not among them.`,
      );
    let real: string;
    try {
      real = realpathSync(wanted);
    } catch {
      if (!roots.some(root => inside(realOr(wanted), root))) throw refuse();
      throw new HttpError(400, 'invalid_path', `There is no butler repository at ${path}; give the folder that holds butler.yaml.`);
    }
    if (!roots.some(root => inside(real, root))) throw refuse();
    return real;
  }
}
