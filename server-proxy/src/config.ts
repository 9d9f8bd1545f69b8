import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export type AuthMode = 'personal' | 'trusted-header';

export interface HTCondorSiteConfig {
  /** argv before the condor tool's name: [] (tools on PATH), a wrapper, or e.g. ["ssh", "submit-host"]. */
  commandPrefix: string[];
  /** Folder shared with the execute nodes: the proxy's data dir and the Jupyter root must be inside it. */
  stagingDir: string;
  /** Interpreter that runs user_batch.runner on the execute nodes (default: USER_BATCH_PYTHON). */
  python?: string;
  /** `-name` of the schedd / `-pool` of the collector, when not the defaults of the condor tools. */
  schedd?: string;
  pool?: string;
  /** Chown job folders to this uid/gid before submitting (a proxy running as root, jobs as a user). */
  jobOwner?: { uid: number; gid: number };
  requestDiskKiB: number;
  /** Extra environment for the job (e.g. PATH on the execute nodes). */
  environment: Record<string, string>;
}

/** A Dask Gateway: where it is and how the proxy proves who the job's user is. */
export interface DaskGatewaySiteConfig {
  /** The gateway's HTTP address (REST API and dashboards), e.g. http://127.0.0.1:8790. */
  address: string;
  /** Where Dask clients reach schedulers, when not the gateway's own (e.g. gateway://host:8786). */
  proxyAddress?: string;
  /**
   * basic: SimpleAuthenticator's shared password (testing only), the job's user as the user name;
   * jupyterhub: the user's JupyterHub API token. The secret is read from a file, never from the config.
   */
  auth: { type: 'basic'; passwordFile: string } | { type: 'jupyterhub'; tokenFile: string };
  /** How long a new cluster may take to start before the job fails. */
  startTimeoutSeconds: number;
}

export interface BackendConfig {
  name: string;
  label: string;
  default: boolean;
  /** Which implementation; "local" when not given (the name "local" has always meant it). */
  type: 'local' | 'htcondor' | 'dask-gateway';
  htcondor?: HTCondorSiteConfig;
  daskGateway?: DaskGatewaySiteConfig;
}

/** A pipeline the site offers to re-run; users add overrides and a query. */
export interface StandardPipelineConfig {
  name: string;
  /** The pipeline YAML: an absolute path, or a URI the middleware reads. */
  pipeline: string;
  description: string;
  inputCollections?: string[];
  dataQuery?: string;
}

export interface PipelinesConfig {
  /** Folders (besides the Jupyter root) where butler repositories may live. */
  repoRoots: string[];
  standard: StandardPipelineConfig[];
  /** Estimated seconds per quantum when neither its task label nor its task class has a cost. */
  secondsPerQuantum: number;
  /** Seconds per quantum by task label or task class (the label wins). */
  taskSeconds: Record<string, number>;
  /** How long building a quantum graph may take. */
  planTimeoutSeconds: number;
  /** On HTCondor (BPS): quanta sharing these dimensions' values run as one pool job; none clusters nothing. */
  clusterDimensions: string[];
}

export interface Config {
  host: string;
  port: number;
  secret: string | undefined;
  auth: AuthMode;
  /** The user in personal mode. */
  user: string;
  /** The user's groups in personal mode. */
  groups: string[];
  dataDir: string;
  rootDir: string;
  python: string;
  /** argv prefix that starts the job runner; the job directory is appended. */
  runnerCommand: string[];
  quotaFile: string | undefined;
  backends: BackendConfig[];
  pollIntervalMs: number;
  /** How long a cancelled job gets between SIGTERM and SIGKILL. */
  cancelGraceMs: number;
  /** How long past its walltime the proxy waits for the runner to stop a job itself. */
  walltimeGraceMs: number;
  bodyLimitBytes: number;
  /** Folders (besides the Jupyter root) that catalog runs may read catalogs from. */
  catalogRoots: string[];
  pipelines: PipelinesConfig;
  logLevel: string;
  /** The level of the one line logged per request: `debug` keeps them out of JupyterLab's terminal. */
  requestLogLevel: 'debug' | 'info';
  version: string;
}

/** Site config file (USER_BATCH_CONFIG): every key optional. */
const SiteConfig = z
  .object({
    backends: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'a short lower-case name'),
            label: z.string().min(1),
            default: z.boolean().default(false),
            type: z.enum(['local', 'htcondor', 'dask-gateway']).default('local'),
            commandPrefix: z.array(z.string().min(1)).default([]),
            stagingDir: z.string().min(1).optional(),
            python: z.string().min(1).optional(),
            schedd: z.string().min(1).optional(),
            pool: z.string().min(1).optional(),
            jobOwner: z.object({ uid: z.number().int().min(1), gid: z.number().int().min(1) }).optional(),
            requestDiskKiB: z
              .number()
              .int()
              .min(1024)
              .default(1024 * 1024),
            environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
            address: z.url({ protocol: /^https?$/ }).optional(),
            proxyAddress: z
              .string()
              .regex(/^(gateway|tls|tcp):\/\/[^\s]+$/, 'gateway://host:port')
              .optional(),
            auth: z
              .discriminatedUnion('type', [
                z.object({ type: z.literal('basic'), passwordFile: z.string().min(1) }).strict(),
                z.object({ type: z.literal('jupyterhub'), tokenFile: z.string().min(1) }).strict(),
              ])
              .optional(),
            startTimeoutSeconds: z.number().int().min(1).default(120),
          })
          .strict()
          .refine(b => b.type !== 'htcondor' || b.stagingDir !== undefined, {
            message: 'an htcondor backend needs stagingDir (the folder shared with the execute nodes)',
          })
          .refine(b => b.type !== 'dask-gateway' || (b.address !== undefined && b.auth !== undefined), {
            message:
              'a dask-gateway backend needs address (http://host:port) and auth ({type: basic, passwordFile} or {type: jupyterhub, tokenFile})',
          }),
      )
      .min(1)
      .optional(),
    runnerCommand: z.array(z.string().min(1)).min(1).optional(),
    catalogRoots: z.array(z.string().min(1)).optional(),
    pipelines: z
      .object({
        repoRoots: z.array(z.string().min(1)).default([]),
        standard: z
          .array(
            z
              .object({
                name: z.string().min(1).max(200),
                pipeline: z.string().min(1),
                description: z.string().default(''),
                inputCollections: z.array(z.string().min(1)).min(1).optional(),
                dataQuery: z.string().optional(),
              })
              .strict(),
          )
          .default([])
          .refine(list => new Set(list.map(p => p.name)).size === list.length, { message: 'standard pipeline names must differ' }),
        secondsPerQuantum: z.number().positive().default(1),
        taskSeconds: z.record(z.string().min(1), z.number().positive()).default({}),
        planTimeoutSeconds: z.number().int().min(1).default(600),
        clusterDimensions: z.array(z.string().regex(/^[a-z][a-z_]*$/, 'a dimension name, like detector or visit')).default([]),
      })
      .strict()
      .optional(),
    pollIntervalMs: z.number().int().min(20).optional(),
    cancelGraceMs: z.number().int().min(0).optional(),
    walltimeGraceMs: z.number().int().min(0).optional(),
  })
  .strict();

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(s => s.length > 0);
}

function readSiteConfig(file: string | undefined): z.infer<typeof SiteConfig> {
  if (!file) return {};
  const text = readFileSync(file, 'utf8');
  const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  const result = SiteConfig.safeParse(parsed ?? {});
  if (!result.success) {
    throw new Error(`Site config ${file} is not valid: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    const parsed = z.object({ version: z.string() }).safeParse(pkg);
    return parsed.success ? parsed.data.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const auth = env.USER_BATCH_AUTH ?? 'personal';
  if (auth !== 'personal' && auth !== 'trusted-header') {
    throw new Error(`USER_BATCH_AUTH must be "personal" or "trusted-header", not "${auth}".`);
  }
  const port = Number(env.USER_BATCH_PORT ?? '8765');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`USER_BATCH_PORT must be a port number, not "${env.USER_BATCH_PORT}".`);
  }
  const site = readSiteConfig(env.USER_BATCH_CONFIG);
  const python = env.USER_BATCH_PYTHON ?? 'python3';
  const dataDir = env.USER_BATCH_DATA_DIR ?? join(homedir(), '.local', 'share', 'user-batch');
  const rootDir = env.USER_BATCH_ROOT_DIR ?? process.cwd();
  return {
    host: env.USER_BATCH_HOST ?? '127.0.0.1',
    port,
    secret: env.USER_BATCH_SECRET || undefined,
    auth,
    user: env.USER_BATCH_USER || env.JUPYTERHUB_USER || userInfo().username,
    groups: splitList(env.USER_BATCH_GROUPS),
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir),
    rootDir: isAbsolute(rootDir) ? rootDir : resolve(rootDir),
    python,
    runnerCommand: site.runnerCommand ?? [python, '-m', 'user_batch.runner'],
    quotaFile: env.USER_BATCH_QUOTA_FILE || undefined,
    backends: (site.backends ?? [{ name: 'local', label: 'This server (local processes)', default: true, type: 'local' as const }]).map(
      (b): BackendConfig => {
        if (b.type === 'dask-gateway' && b.address && b.auth) {
          return {
            name: b.name,
            label: b.label,
            default: b.default,
            type: 'dask-gateway',
            daskGateway: {
              address: b.address.replace(/\/+$/, ''),
              proxyAddress: b.proxyAddress,
              auth: b.auth,
              startTimeoutSeconds: b.startTimeoutSeconds,
            },
          };
        }
        if (!('commandPrefix' in b) || b.type !== 'htcondor') return { name: b.name, label: b.label, default: b.default, type: b.type };
        return {
          name: b.name,
          label: b.label,
          default: b.default,
          type: 'htcondor',
          htcondor: {
            commandPrefix: b.commandPrefix,
            stagingDir: resolve(b.stagingDir ?? '/'),
            python: b.python,
            schedd: b.schedd,
            pool: b.pool,
            jobOwner: b.jobOwner,
            requestDiskKiB: b.requestDiskKiB,
            environment: b.environment,
          },
        };
      },
    ),
    pollIntervalMs: site.pollIntervalMs ?? 300,
    // The runner needs up to ~5 s to interrupt the cell, stop the kernel and save (contract).
    cancelGraceMs: site.cancelGraceMs ?? 6000,
    walltimeGraceMs: site.walltimeGraceMs ?? 30000,
    bodyLimitBytes: 10 * 1024 * 1024,
    catalogRoots: [...(site.catalogRoots ?? []), ...splitList(env.USER_BATCH_CATALOG_ROOTS)].map(r => resolve(r)),
    pipelines: {
      repoRoots: [...(site.pipelines?.repoRoots ?? []), ...splitList(env.USER_BATCH_PIPELINE_REPO_ROOTS)].map(r => resolve(r)),
      standard: site.pipelines?.standard ?? [],
      secondsPerQuantum: site.pipelines?.secondsPerQuantum ?? 1,
      taskSeconds: site.pipelines?.taskSeconds ?? {},
      planTimeoutSeconds: site.pipelines?.planTimeoutSeconds ?? 600,
      clusterDimensions: site.pipelines?.clusterDimensions ?? [],
    },
    logLevel: env.USER_BATCH_LOG_LEVEL ?? 'info',
    requestLogLevel: env.USER_BATCH_REQUEST_LOG_LEVEL === 'debug' ? 'debug' : 'info',
    version: packageVersion(),
  };
}
