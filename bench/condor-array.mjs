#!/usr/bin/env node
// HTCondor arrays, our path against the raw tool, in one run (issue: HTCondor backend, benchmark):
//   1. submit an N-item sweep through the proxy (POST /api/jobs → store, quota, job folder,
//      one condor_submit with `queue Item from`) against one raw `condor_submit` of the very
//      same description and item file; ratio of wall times (aim ≤ 1.1);
//   2. one poll of the proxy with those N procs in the queue (one condor_q) against the raw
//      `condor_q -json` of the same query.
// The pool's startd is switched off for the run so that nothing starts: we time submission and
// queries, not the jobs. Needs the real pool (bin/condor-pool start) and the built proxy.
//   bin/condor-pool start && (cd server-proxy && npm run build) && node bench/condor-array.mjs
//   BENCH_ARRAY_N=10000 BENCH_ARRAY_ROUNDS=3 node bench/condor-array.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { buildApp } = require(join(repo, 'server-proxy', 'dist', 'app.js'));
const { loadConfig } = require(join(repo, 'server-proxy', 'dist', 'config.js'));

const N = Number(process.env.BENCH_ARRAY_N ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ARRAY_ROUNDS ?? 3);
const pool = Object.fromEntries(execFileSync(join(repo, 'bin', 'condor-pool'), ['env'], { encoding: 'utf8' })
  .trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const CONDOR_CMD = join(repo, 'bin', 'condor-cmd');
const TIMING = join(repo, 'bench', 'timing-condor-cmd');

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const condor = (tool, ...args) => execFileSync(CONDOR_CMD, [tool, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
const removeCluster = (id) => condor('condor_rm', String(id));
/** Waits until the schedd has no proc left of these clusters (removal of 10,000 procs takes a while). */
async function drained(clusters) {
  const constraint = clusters.map((c) => `ClusterId == ${c}`).join(' || ');
  for (let i = 0; i < 600; i++) {
    if (JSON.parse(condor('condor_q', '-allusers', '-json', '-constraint', constraint, '-attributes', 'ProcId') || '[]').length === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`clusters ${clusters} still in the queue after 5 minutes`);
}
// our jobs end through the API, so the proxy's store agrees with the queue
const cancelOurs = async (app, id) => {
  const res = await app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` });
  if (res.statusCode !== 200) throw new Error(`cancel failed: ${res.body}`);
};

function timed(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  const took = ms(t0);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { took, out: r.stdout };
}

const dir = mkdtempSync(join(pool.USER_BATCH_CONDOR_SHARED, 'bench-array-'));
chmodSync(dir, 0o755);
const countFile = join(dir, 'calls.txt');
writeFileSync(countFile, '');
chmodSync(countFile, 0o666);
writeFileSync(join(dir, 'site.json'), JSON.stringify({
  backends: [{ name: 'htcondor', label: 'HTCondor', type: 'htcondor', default: true, commandPrefix: [TIMING, countFile],
    stagingDir: pool.USER_BATCH_CONDOR_SHARED, python: join(repo, '.venv', 'bin', 'python'),
    jobOwner: { uid: Number(pool.CONDOR_POOL_UID), gid: Number(pool.CONDOR_POOL_UID) } }],
  pollIntervalMs: 3_600_000,
}));
writeFileSync(join(dir, 'quotas.yaml'), `default: { concurrentJobs: 100, concurrentCores: ${N * 2}, coreHours: ${N * 10} }\n`);
const config = loadConfig({
  USER_BATCH_DATA_DIR: join(dir, 'data'), USER_BATCH_ROOT_DIR: join(dir, 'root'), USER_BATCH_USER: 'alice',
  USER_BATCH_GROUPS: '', USER_BATCH_CONFIG: join(dir, 'site.json'), USER_BATCH_QUOTA_FILE: join(dir, 'quotas.yaml'),
});
const spec = (round) => ({
  name: `bench array ${round}`, kind: 'cells', backend: 'htcondor',
  source: { notebookPath: 'work/sweep.ipynb', cells: [{ id: 'c0', role: 'main', source: 'print(n * n)' }] },
  resources: { cpus: 1, memoryMiB: 512, walltimeSeconds: 600 },
  sweep: Array.from({ length: N }, (_, n) => ({ n })),
});

execFileSync(join(repo, 'bin', 'condor-pool'), ['startd-off']);
const app = await buildApp({ ...config, logLevel: 'silent' }, { logger: false });
await app.ready();
await app.services.jobs.stopPolling();
const rows = [];
let pollRow = null;
try {
  // a warm-up submission of both kinds (the first condor_submit of a run pays for cold caches)
  const warm = await app.inject({ method: 'POST', url: '/api/jobs', payload: spec('warm-up') });
  if (warm.statusCode !== 201) throw new Error(`warm-up refused: ${warm.body}`);
  const warmJob = app.services.store.get(warm.json().id);
  // The raw side: the same description and item file as ours, each submission in a fresh folder
  // as ours is (condor_submit creates every proc's log file: reusing a folder would be cheaper).
  const ourDir = join(config.dataDir, 'jobs', warmJob.id);
  const ourText = readFileSync(join(ourDir, 'job.sub'), 'utf8');
  const rawSubmitFile = (name) => {
    const rawDir = join(dir, name);
    const rawOut = join(config.rootDir, 'batch-jobs', name);
    execFileSync('mkdir', ['-p', join(rawDir, 'items'), rawOut]);
    writeFileSync(join(rawDir, 'job.sub'), ourText.replaceAll(ourDir, rawDir).replaceAll(warmJob.id, name));
    copyFileSync(join(ourDir, 'items.txt'), join(rawDir, 'items.txt'));
    execFileSync('chown', ['-R', `${pool.CONDOR_POOL_UID}:${pool.CONDOR_POOL_UID}`, rawDir, rawOut]);
    return join(rawDir, 'job.sub');
  };
  await cancelOurs(app, warmJob.id);
  const warmRaw = /^(\d+)\./.exec(timed([CONDOR_CMD, 'condor_submit', '-terse', rawSubmitFile('rawwarm')]).out.trim())[1];
  removeCluster(warmRaw);
  await drained([warmJob.backendRef.clusterId, warmRaw]);

  for (let round = 0; round < ROUNDS; round++) {
    const row = { round };
    // alternate which goes first, so neither always meets a schedd busy removing the other
    for (const path of round % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw']) {
      // each submission meets an empty queue: the other one's cluster is removed and gone first
      if (path === 'raw') {
        const file = rawSubmitFile(`raw${round}`);
        const r = timed([CONDOR_CMD, 'condor_submit', '-terse', file]);
        row.rawMs = r.took;
        row.rawCluster = Number(/^(\d+)\./.exec(r.out.trim())[1]);
        removeCluster(row.rawCluster);
        await drained([row.rawCluster]);
      } else {
        const before = readFileSync(countFile, 'utf8').split('\n').filter(Boolean).length;
        const t0 = process.hrtime.bigint();
        const res = await app.inject({ method: 'POST', url: '/api/jobs', payload: spec(round) });
        row.oursMs = ms(t0);
        if (res.statusCode !== 201) throw new Error(`submit refused: ${res.body}`);
        row.oursJob = res.json().id;
        row.oursCluster = app.services.store.get(row.oursJob).backendRef.clusterId;
        row.oursCalls = readFileSync(countFile, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => l.split(' ')[0]);
        const [, start, end] = readFileSync(countFile, 'utf8').split('\n').filter(Boolean).at(-1).split(' ');
        row.oursCondorSubmitMs = (Number(end) - Number(start)) / 1e6;
        row.oursProcs = JSON.parse(condor('condor_q', '-allusers', '-json', '-constraint', `ClusterId == ${row.oursCluster}`, '-attributes', 'ProcId')).length;
        if (round === ROUNDS - 1) await pollWithQueue(row);
        await cancelOurs(app, row.oursJob);
        await drained([row.oursCluster]);
      }
    }
    rows.push(row);
    console.error(`round ${round}: raw ${row.rawMs.toFixed(0)} ms, ours ${row.oursMs.toFixed(0)} ms (${row.oursProcs} procs; calls ${row.oursCalls.join(',')})`);
  }
} finally {
  await app.close();
  execFileSync(join(repo, 'bin', 'condor-pool'), ['startd-on']);
  rmSync(dir, { recursive: true, force: true });
}

/** One poll of the proxy with our N procs (and nothing else of ours) in the queue, and the raw query it makes. */
async function pollWithQueue(row) {
  const count = () => readFileSync(countFile, 'utf8').split('\n').filter(Boolean);
  const before = count().length;
  const t0 = process.hrtime.bigint();
  await app.services.jobs.pollOnce();
  const pollMs = ms(t0);
  const pollCalls = count().slice(before).map((l) => l.split(' ')[0]);
  const rawQ = timed([CONDOR_CMD, 'condor_q', '-allusers', '-json', '-constraint', 'UserBatchJobId =!= undefined',
    '-attributes', 'ClusterId,ProcId,JobStatus,UserBatchJobId,UserBatchItem,HoldReason,HoldReasonCode,HoldReasonSubCode,RemoveReason,ExitCode,ExitBySignal,ExitSignal,RemoteWallClockTime,MemoryUsage,ResidentSetSize_RAW,JobCurrentStartDate,JobStartDate,CompletionDate,EnteredCurrentStatus']);
  const job = app.services.store.get(row.oursJob);
  pollRow = {
    pollMs, pollCalls, rawCondorQMs: rawQ.took, adsInQueue: JSON.parse(rawQ.out).length,
    itemsQueued: [...(job.progress?.items ?? '')].filter((c) => c === 'q').length,
  };
}

const raw = median(rows.map((r) => r.rawMs));
const oursMed = median(rows.map((r) => r.oursMs));
const result = {
  items: N, rounds: ROUNDS, rawSubmitMedianMs: Math.round(raw), oursSubmitMedianMs: Math.round(oursMed),
  ratio: Number((oursMed / raw).toFixed(3)),
  // what the proxy adds around its own condor_submit call (store, quota, job folder, validation)
  proxyOwnMedianMs: Math.round(median(rows.map((r) => r.oursMs - r.oursCondorSubmitMs))),
  perRound: rows.map((r) => ({ rawMs: Math.round(r.rawMs), oursMs: Math.round(r.oursMs), oursCondorSubmitMs: Math.round(r.oursCondorSubmitMs), ratio: Number((r.oursMs / r.rawMs).toFixed(3)), procs: r.oursProcs, calls: r.oursCalls })),
  poll: pollRow && { ...pollRow, pollMs: Math.round(pollRow.pollMs), rawCondorQMs: Math.round(pollRow.rawCondorQMs) },
  condorVersion: condor('condor_version').split('\n')[0],
  when: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
