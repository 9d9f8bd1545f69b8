#!/usr/bin/env node
// A catalog run over every partition of a catalog on the Dask Gateway, our path against the
// same LSDB code run directly (bench/catalog_direct.py), in one run, alternating; ratio of wall
// times (issue: Dask Gateway and catalog runs, aim ≤ 1.05).
//   ours:   POST /api/jobs (kind catalog, backend dask) → the proxy plans, makes a gateway
//           cluster, starts the driver, which runs LSDB map_partitions and writes the result;
//           timed until the job's state is final (polled every 100 ms)
//   direct: a fresh Python process makes a cluster on the same gateway with the same options,
//           runs open_catalog → map_partitions → to_hats, stops the cluster; timed spawn → exit
// Needs the gateway (bin/dask-gateway start) and the built proxy (cd server-proxy && npm run build).
//   node bench/catalog-run.mjs                      BENCH_CATALOG_ROWS=2000000 BENCH_CATALOG_ROUNDS=3
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { buildApp } = require(join(repo, 'server-proxy', 'dist', 'app.js'));
const { loadConfig } = require(join(repo, 'server-proxy', 'dist', 'config.js'));
const PYTHON = join(repo, '.venv', 'bin', 'python');
const ROWS = Number(process.env.BENCH_CATALOG_ROWS ?? 2_000_000);
const ROUNDS = Number(process.env.BENCH_CATALOG_ROUNDS ?? 3);
const WORKERS = 2;
const FUNCTION = 'def process(df):\n    out = df[df["mag"] < 22].copy()\n    out["flux2"] = out["flux"] * 2\n    return out\n';

const gw = Object.fromEntries(execFileSync(join(repo, 'bin', 'dask-gateway'), ['env'], { encoding: 'utf8' })
  .trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const collection = join(repo, '.run', 'bench', `catalog-${ROWS}`);
console.error(`[bench] building the benchmark catalog (${ROWS} rows) once in ${collection}`);
execFileSync(PYTHON, [join(repo, 'bench', 'catalog_direct.py'), 'make', collection, String(ROWS)], { stdio: 'ignore' });
const catalog = join(collection, 'bench');

const dir = mkdtempSync(join(tmpdir(), 'bench-catalog-'));
writeFileSync(join(dir, 'site.json'), JSON.stringify({
  backends: [{ name: 'dask', label: 'Dask Gateway', type: 'dask-gateway', default: true, address: gw.USER_BATCH_TEST_GATEWAY_ADDRESS,
    proxyAddress: gw.USER_BATCH_TEST_GATEWAY_PROXY_ADDRESS, auth: { type: 'basic', passwordFile: gw.USER_BATCH_TEST_GATEWAY_PASSWORD_FILE } }],
  pollIntervalMs: 100,
}));
writeFileSync(join(dir, 'quotas.yaml'), 'default: { concurrentJobs: 10, concurrentCores: 100, coreHours: 1000, daskWorkersPerCluster: 4 }\n');
const config = loadConfig({
  USER_BATCH_DATA_DIR: join(dir, 'data'), USER_BATCH_ROOT_DIR: join(dir, 'root'), USER_BATCH_USER: 'bench', USER_BATCH_GROUPS: '',
  USER_BATCH_CONFIG: join(dir, 'site.json'), USER_BATCH_QUOTA_FILE: join(dir, 'quotas.yaml'), USER_BATCH_PYTHON: PYTHON,
  USER_BATCH_CATALOG_ROOTS: collection,
});
const app = await buildApp({ ...config, logLevel: 'silent' }, { logger: false });
await app.ready();

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function ours(round) {
  const t0 = process.hrtime.bigint();
  const res = await app.inject({ method: 'POST', url: '/api/jobs', payload: {
    name: `bench ${round}`, kind: 'catalog', backend: 'dask',
    source: { notebookPath: 'bench.ipynb', catalog: { path: catalog, columns: ['id', 'ra', 'dec', 'mag', 'flux'], function: { name: 'process', source: FUNCTION } } },
    resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600, workers: WORKERS },
  } });
  if (res.statusCode !== 201) throw new Error(`submit refused: ${res.body}`);
  const id = res.json().id;
  for (;;) {
    const job = app.services.store.get(id);
    if (['succeeded', 'failed', 'cancelled', 'lost'].includes(job.state)) {
      if (job.state !== 'succeeded') throw new Error(`our run ended ${job.state}: ${job.stateReason}`);
      return { ms: ms(t0), partitions: job.progress.total };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function direct() {
  const out = mkdtempSync(join(tmpdir(), 'bench-direct-'));
  rmSync(out, { recursive: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(PYTHON, [join(repo, 'bench', 'catalog_direct.py'), 'run', catalog, out, String(WORKERS)], { encoding: 'utf8' });
  const took = ms(t0);
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`direct run failed: ${r.stderr.slice(-2000)}`);
  return { ms: took };
}

const rows = [];
try {
  console.error('[bench] warm-up: one run of each (the first imports pay for cold caches)');
  await ours('warm-up');
  direct();
  for (let round = 0; round < ROUNDS; round++) {
    const row = {};
    for (const path of round % 2 === 0 ? ['direct', 'ours'] : ['ours', 'direct']) {
      if (path === 'direct') row.directMs = direct().ms;
      else Object.assign(row, (({ ms: oursMs, partitions }) => ({ oursMs, partitions }))(await ours(round)));
    }
    rows.push(row);
    console.error(`[bench] round ${round}: direct ${(row.directMs / 1000).toFixed(1)} s, ours ${(row.oursMs / 1000).toFixed(1)} s (${row.partitions} partitions)`);
  }
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
const d = median(rows.map((r) => r.directMs));
const o = median(rows.map((r) => r.oursMs));
console.log(JSON.stringify({
  rows: ROWS, partitions: rows[0]?.partitions, workers: WORKERS, rounds: ROUNDS,
  directMedianS: Number((d / 1000).toFixed(2)), oursMedianS: Number((o / 1000).toFixed(2)), ratio: Number((o / d).toFixed(3)),
  perRound: rows.map((r) => ({ directS: Number((r.directMs / 1000).toFixed(2)), oursS: Number((r.oursMs / 1000).toFixed(2)), ratio: Number((r.oursMs / r.directMs).toFixed(3)) })),
  when: new Date().toISOString(),
}, null, 2));
