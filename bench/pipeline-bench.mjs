#!/usr/bin/env node
// A pipeline run on the local backend, our path against pipetask by hand, in one run, round-robin
// (issue #9, Benchmark: aim ≤ 1.05× for the run), and the time to show the pre-submit estimate
// of a 1,000-quantum graph against `pipetask qgraph` by hand.
//   direct: `pipetask qgraph -b REPO -i demo/raw -o OUT --output-run RUN -p add.yaml -q g.qg`, then
//           `pipetask run -b REPO -g g.qg -j 1 --register-dataset-types`; timed spawn → exit, each
//   ours:   POST /api/pipelines/plan (the planner builds the graph), then POST /api/jobs with the
//           planId (the runner runs it with `pipetask run -g`); timed submit → succeeded and
//           plan → succeeded, the job's state read with GET /api/jobs/:id every 50 ms
//   argv:   `pipetask run` by hand with the options our runner gives it (--log-file, --summary,
//           --output: user_batch.pipeline_run.pipetask_argv), so that what pipetask's extra options
//           cost and what our runner and proxy add can be told apart
// All run demo/pipelines/add.yaml (addA, addB) over the same butler repo, each round into a new
// output run. The repos are made once by `python -m user_batch.pipeline_demo make-repo`.
// Needs the project venv (.venv, with the LSST middleware) and the built proxy:
//   (cd server-proxy && npm run build) && node bench/pipeline-bench.mjs
//   BENCH_PIPELINE_DETECTORS=20 BENCH_PIPELINE_ROUNDS=6 BENCH_ESTIMATE_DETECTORS=500 BENCH_ESTIMATE_ROUNDS=3
// Prints one JSON summary on stdout; progress on stderr. Nothing listens on the network (app.inject).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { buildApp } = require(join(repo, 'server-proxy', 'dist', 'app.js'));
const { loadConfig } = require(join(repo, 'server-proxy', 'dist', 'config.js'));
const BIN = join(repo, '.venv', 'bin');
const PYTHON = join(BIN, 'python');
const PIPETASK = join(BIN, 'pipetask');
const DETECTORS = Number(process.env.BENCH_PIPELINE_DETECTORS ?? 20);
const ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 6);
const EST_DETECTORS = Number(process.env.BENCH_ESTIMATE_DETECTORS ?? 500);
const EST_ROUNDS = Number(process.env.BENCH_ESTIMATE_ROUNDS ?? 3);
const USER = 'bench';
// the planner and runner the proxy starts are this checkout's user_batch, whatever the venv points at
process.env.PYTHONPATH = repo;

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const s2 = (x) => Number((x / 1000).toFixed(2));
const log = (m) => console.error(`[pipeline-bench] ${m}`);
const loadStart = loadavg();

const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
const repoRoot = join(dir, 'repos');
const root = join(dir, 'root');
mkdirSync(join(root, 'pipelines'), { recursive: true });
const pipelineFile = join(root, 'pipelines', 'add.yaml');
copyFileSync(join(repo, 'demo', 'pipelines', 'add.yaml'), pipelineFile);

function makeRepo(detectors) {
  const path = join(repoRoot, `demo-${detectors}`);
  if (!existsSync(path)) {
    log(`making a butler repo with ${detectors} detectors in ${path}`);
    execFileSync(PYTHON, ['-m', 'user_batch.pipeline_demo', 'make-repo', path, '--detectors', String(detectors)], { cwd: repo, stdio: 'ignore' });
  }
  return path;
}

/** Runs a command to its end (argv list, no shell); its wall time in ms. */
function timed(argv, what) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const took = ms(t0);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  return took;
}

function directQgraph(butler, tag) {
  const graph = join(dir, `${tag}.qg`);
  const output = `u/${USER}/direct_${tag}`;
  const qgraphMs = timed(
    [PIPETASK, 'qgraph', '-b', butler, '-i', 'demo/raw', '-o', output, '--output-run', `${output}/run`, '-p', pipelineFile, '-q', graph],
    'pipetask qgraph',
  );
  return { graph, qgraphMs };
}

function direct(butler, tag) {
  const { graph, qgraphMs } = directQgraph(butler, tag);
  const runMs = timed([PIPETASK, 'run', '-b', butler, '-g', graph, '-j', '1', '--register-dataset-types'], 'pipetask run');
  rmSync(graph, { force: true });
  return { qgraphMs, runMs };
}

// The command our runner gives pipetask (user_batch.pipeline_run.pipetask_argv, asked once with
// placeholders): its options (--log-file, --summary, --output) cost pipetask time of their own.
const RUNNER_ARGV = JSON.parse(
  execFileSync(PYTHON, [
    '-c',
    'import json\nfrom user_batch.pipeline_run import pipetask_argv\n' +
      "print(json.dumps(pipetask_argv('@DIR@', {'butlerRepo': '@REPO@', 'inputCollections': ['demo/raw'], 'outputCollection': '@OUT@'}, {'outputRun': '@RUN@'})))",
  ]).toString(),
);

/** pipetask with our runner's options, by hand: what the runner and proxy add is ours minus this. */
function runnerArgv(butler, tag) {
  const { graph } = directQgraph(butler, tag);
  const jobdir = mkdtempSync(join(dir, 'argv-'));
  const output = `u/${USER}/direct_${tag}`;
  const subst = { '@DIR@/pipeline.qg': graph, '@DIR@': jobdir, '@REPO@': butler, '@OUT@': output, '@RUN@': `${output}/run` };
  const argv = RUNNER_ARGV.map((a) => Object.entries(subst).reduce((x, [k, v]) => x.replaceAll(k, v), a));
  const runMs = timed(argv, "pipetask run with the runner's options");
  rmSync(graph, { force: true });
  return { runMs };
}

writeFileSync(join(dir, 'site.json'), JSON.stringify({ backends: [{ name: 'local', label: 'Here', default: true }] }));
writeFileSync(join(dir, 'quotas.yaml'), 'default: { concurrentJobs: 10, concurrentCores: 100, coreHours: 100000 }\n');
const config = loadConfig({
  USER_BATCH_DATA_DIR: join(dir, 'data'),
  USER_BATCH_ROOT_DIR: root,
  USER_BATCH_USER: USER,
  USER_BATCH_GROUPS: '',
  USER_BATCH_CONFIG: join(dir, 'site.json'),
  USER_BATCH_QUOTA_FILE: join(dir, 'quotas.yaml'),
  USER_BATCH_PYTHON: PYTHON,
  USER_BATCH_PIPELINE_REPO_ROOTS: repoRoot,
});
const app = await buildApp({ ...config, logLevel: 'silent' }, { logger: false });
await app.ready();

const definition = (butler) => ({ file: 'pipelines/add.yaml', butlerRepo: butler, inputCollections: ['demo/raw'] });

async function plan(butler, name) {
  const t0 = process.hrtime.bigint();
  const res = await app.inject({ method: 'POST', url: '/api/pipelines/plan', payload: { name, pipeline: definition(butler) } });
  const took = ms(t0);
  if (res.statusCode !== 200) throw new Error(`plan refused (${res.statusCode}): ${res.body}`);
  return { planMs: took, answer: res.json() };
}

async function ours(butler, tag) {
  const name = `ours ${tag}`; // a name per round: the output run is u/USER/NAME/TIMESTAMP
  const t0 = process.hrtime.bigint();
  const { planMs, answer } = await plan(butler, name);
  const t1 = process.hrtime.bigint();
  const res = await app.inject({
    method: 'POST',
    url: '/api/jobs',
    payload: {
      name,
      kind: 'pipeline',
      backend: 'local',
      source: { notebookPath: 'pipelines/add.yaml', pipeline: { ...definition(butler), planId: answer.planId } },
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
    },
  });
  if (res.statusCode !== 201) throw new Error(`submit refused (${res.statusCode}): ${res.body}`);
  const id = res.json().id;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}` })).json();
    if (['succeeded', 'failed', 'cancelled', 'lost'].includes(job.state)) {
      const runMs = ms(t1);
      const totalMs = ms(t0);
      if (job.state !== 'succeeded') throw new Error(`our run ended ${job.state}: ${job.stateReason}`);
      let pipetaskMs = null;
      let runnerMs = null;
      try {
        const { timings } = JSON.parse(readFileSync(join(app.files.jobDir(id), 'pipeline-provenance.json'), 'utf8'));
        pipetaskMs = timings.pipetaskSeconds * 1000;
        runnerMs = timings.totalSeconds * 1000;
      } catch {
        // the runner's own timing is extra information: without it the row still stands
      }
      return { planMs, runMs, totalMs, pipetaskMs, runnerMs, quanta: answer.plan.totalQuanta, done: job.progress?.done };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const runRows = [];
const estRows = [];
let estQuanta = null;
try {
  const small = makeRepo(DETECTORS);
  const large = makeRepo(EST_DETECTORS);
  log('warm-up: one run of each path (cold file caches, first imports)');
  direct(small, 'warm');
  runnerArgv(small, 'awarm');
  await ours(small, 'warm');
  for (let round = 0; round < ROUNDS; round++) {
    const row = {};
    const order = ['direct', 'argv', 'ours'];
    for (const path of [...order.slice(round % 3), ...order.slice(0, round % 3)]) {
      if (path === 'argv') {
        row.argvRunMs = runnerArgv(small, `a${round}`).runMs;
      } else if (path === 'direct') {
        const d = direct(small, `r${round}`);
        Object.assign(row, { directQgraphMs: d.qgraphMs, directRunMs: d.runMs, directTotalMs: d.qgraphMs + d.runMs });
      } else {
        const o = await ours(small, `r${round}`);
        Object.assign(row, { oursPlanMs: o.planMs, oursRunMs: o.runMs, oursTotalMs: o.totalMs, oursPipetaskMs: o.pipetaskMs, oursRunnerMs: o.runnerMs, quanta: o.quanta, done: o.done });
      }
    }
    runRows.push(row);
    log(
      `run round ${round}: run direct ${s2(row.directRunMs)} s / runner's argv ${s2(row.argvRunMs)} s / ours ${s2(row.oursRunMs)} s; ` +
        `plan+run direct ${s2(row.directTotalMs)} s / ours ${s2(row.oursTotalMs)} s (${row.done}/${row.quanta} quanta)`,
    );
  }
  log(`estimate: ${EST_DETECTORS} detectors`);
  for (let round = 0; round < EST_ROUNDS; round++) {
    const row = {};
    for (const path of round % 2 === 0 ? ['direct', 'ours'] : ['ours', 'direct']) {
      if (path === 'direct') {
        const d = directQgraph(large, `e${round}`);
        rmSync(d.graph, { force: true });
        row.directMs = d.qgraphMs;
      } else {
        const { planMs, answer } = await plan(large, `estimate e${round}`);
        row.oursMs = planMs;
        row.plannerSeconds = answer.plan.seconds;
        estQuanta = answer.plan.totalQuanta;
      }
    }
    estRows.push(row);
    log(`estimate round ${round}: pipetask qgraph ${s2(row.directMs)} s / POST /api/pipelines/plan ${s2(row.oursMs)} s (${estQuanta} quanta)`);
  }
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

const m = (rows, key) => median(rows.map((r) => r[key]));
const summary = {
  when: new Date().toISOString(),
  machine: { cores: cpus().length, loadavgStart: loadStart, loadavgEnd: loadavg(), node: process.version },
  run: {
    detectors: DETECTORS,
    quanta: runRows[0]?.quanta,
    rounds: ROUNDS,
    median: {
      directRunS: s2(m(runRows, 'directRunMs')),
      argvRunS: s2(m(runRows, 'argvRunMs')),
      oursRunS: s2(m(runRows, 'oursRunMs')),
      oursRunnerS: s2(m(runRows, 'oursRunnerMs')),
      oursPipetaskS: s2(m(runRows, 'oursPipetaskMs')),
      directQgraphS: s2(m(runRows, 'directQgraphMs')),
      oursPlanS: s2(m(runRows, 'oursPlanMs')),
      directTotalS: s2(m(runRows, 'directTotalMs')),
      oursTotalS: s2(m(runRows, 'oursTotalMs')),
    },
    ratioRun: Number((m(runRows, 'oursRunMs') / m(runRows, 'directRunMs')).toFixed(3)),
    ratioPlanRun: Number((m(runRows, 'oursTotalMs') / m(runRows, 'directTotalMs')).toFixed(3)),
    ratioRunVsArgv: Number((m(runRows, 'oursRunMs') / m(runRows, 'argvRunMs')).toFixed(3)),
    // per job, around pipetask: the runner (start, job files, provenance) and the proxy (job
    // folder, spawn, noticing exit.json at its poll interval); steadier than the ratios
    overheadMedian: {
      runnerS: s2(median(runRows.map((r) => r.oursRunnerMs - r.oursPipetaskMs))),
      proxyS: s2(median(runRows.map((r) => r.oursRunMs - r.oursRunnerMs))),
      totalS: s2(median(runRows.map((r) => r.oursRunMs - r.oursPipetaskMs))),
    },
    proxyPollIntervalMs: config.pollIntervalMs,
    perRound: runRows.map((r) => ({
      directQgraphS: s2(r.directQgraphMs),
      directRunS: s2(r.directRunMs),
      argvRunS: s2(r.argvRunMs),
      oursPlanS: s2(r.oursPlanMs),
      oursRunS: s2(r.oursRunMs),
      oursRunnerS: r.oursRunnerMs === null ? null : s2(r.oursRunnerMs),
      oursPipetaskS: r.oursPipetaskMs === null ? null : s2(r.oursPipetaskMs),
      ratioRun: Number((r.oursRunMs / r.directRunMs).toFixed(3)),
      ratioPlanRun: Number((r.oursTotalMs / r.directTotalMs).toFixed(3)),
    })),
  },
  estimate: {
    detectors: EST_DETECTORS,
    quanta: estQuanta,
    rounds: EST_ROUNDS,
    median: { directQgraphS: s2(m(estRows, 'directMs')), oursPlanS: s2(m(estRows, 'oursMs')), plannerS: m(estRows, 'plannerSeconds') },
    ratio: Number((m(estRows, 'oursMs') / m(estRows, 'directMs')).toFixed(3)),
    perRound: estRows.map((r) => ({ directQgraphS: s2(r.directMs), oursPlanS: s2(r.oursMs), plannerS: r.plannerSeconds })),
  },
};
console.log(JSON.stringify(summary, null, 2));
