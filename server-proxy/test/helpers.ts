import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { type Config, loadConfig } from '../src/config';
import type { Job } from '@user-batch/contract';

export const FAKE_RUNNER = join(__dirname, 'fixtures', 'fakeRunnerForSeam.py');

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dir: string;
}

export function tempDir(prefix = 'user-batch-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A test config: temp data and root dirs, the fake runner, fast polling. */
export function testConfig(env: NodeJS.ProcessEnv = {}, overrides: Partial<Config> = {}): { config: Config; dir: string } {
  const dir = tempDir();
  const config = loadConfig({
    USER_BATCH_DATA_DIR: join(dir, 'data'),
    USER_BATCH_ROOT_DIR: join(dir, 'root'),
    USER_BATCH_USER: 'alice',
    USER_BATCH_GROUPS: 'g_dp02',
    ...env,
  });
  return {
    dir,
    config: {
      ...config,
      runnerCommand: ['python3', FAKE_RUNNER],
      pollIntervalMs: 50,
      cancelGraceMs: 1000,
      logLevel: 'silent',
      ...overrides,
    },
  };
}

export async function makeApp(env: NodeJS.ProcessEnv = {}, overrides: Partial<Config> = {}): Promise<TestApp> {
  const { config, dir } = testConfig(env, overrides);
  const app = await buildApp(config, { logger: false });
  await app.ready();
  return { app, config, dir };
}

export interface SpecOptions {
  name?: string;
  params?: Record<string, unknown>;
  cpus?: number;
  walltimeSeconds?: number;
  memoryMiB?: number;
  backend?: string;
  account?: string;
}

/** The day a job was submitted as its output folder names it: YYYY-MM-DD, the proxy's local time. */
export function localDay(iso: string): string {
  const at = new Date(iso);
  return `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}`;
}

export function cellsSpec(opts: SpecOptions = {}): Record<string, unknown> {
  return {
    name: opts.name ?? 'fit residuals',
    kind: 'cells',
    source: {
      notebookPath: 'work/analysis.ipynb',
      cells: [
        { id: 'setup1', role: 'setup', source: 'import math' },
        { id: 'main1', role: 'main', source: 'x = math.sqrt(2)' },
        { id: 'main2', role: 'main', source: 'print(x)' },
      ],
    },
    parameters: { threshold: 0.5, ...opts.params },
    resources: { cpus: opts.cpus ?? 1, memoryMiB: opts.memoryMiB ?? 1024, walltimeSeconds: opts.walltimeSeconds ?? 600 },
    backend: opts.backend ?? 'local',
    ...(opts.account ? { account: opts.account } : {}),
  };
}

/** What a probe gives once it holds: `a && b` probes give `b`, never the falsy `a`. */
type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
}

export async function getJob(app: FastifyInstance, id: string, headers: Record<string, string> = {}): Promise<Job> {
  const res = await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers });
  return res.json<Job>();
}

export async function waitForState(
  app: FastifyInstance,
  id: string,
  states: string[],
  timeoutMs = 20_000,
  headers: Record<string, string> = {},
): Promise<Job> {
  return waitFor(
    async () => {
      const job = await getJob(app, id, headers);
      return states.includes(job.state) ? job : null;
    },
    `job ${id} to reach ${states.join('/')}`,
    timeoutMs,
  );
}

/** Everything the proxy wrote: job rows, job dirs, output dirs. */
export function writtenState(app: FastifyInstance, dir: string): { rows: number; jobDirs: number; outputDirs: number } {
  const count = (p: string): number => (existsSync(p) ? readdirSync(p).length : 0);
  const row = app.db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number };
  return { rows: row.n, jobDirs: count(join(dir, 'data', 'jobs')), outputDirs: count(join(dir, 'root', 'batch-jobs')) };
}

/** A port nothing listens on right now, for a server started as a child process. */
export async function freePort(): Promise<number> {
  return new Promise(resolve => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Received {
  event: string;
  data: unknown;
  at: number;
}

/** Reads a text/event-stream into a list of events as they arrive. */
export async function openStream(url: string, headers: Record<string, string>): Promise<{ events: Received[]; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: Received[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { events, close: () => controller.abort() };
}
