// Catalog planner benchmark: planning time for a 12,288-partition (order 5) HATS index.
//
//   cd server-proxy && npm run build && cd .. && node bench/plan-bench.mjs [--columns 20] [--runs 20]
//
// Runs against the BUILT proxy (server-proxy/dist/catalog). The synthetic index is written once by
// bench/plan-bench.py (the venv's pyarrow) into .run/bench/plan-index-o5-c<columns> and reused.
// Scenarios: no region, a 1-degree cone, a 10x10 degree box, a polygon. For each: the median and
// range of RUNS plans that re-read dataset/_metadata every time (cache off: the honest "planning
// including reading _metadata" figure) and of RUNS plans served from the parsed-index cache (the
// dialog re-planning as the user edits the region). The very first plan of the process (module
// load, JIT warm-up, cold read) is reported on its own. Prints a Markdown section for
// bench/RESULTS.md.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = join(REPO, '.venv/bin/python');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const COLUMNS = arg('columns', 20);
const RUNS = arg('runs', 20);

const distEntry = join(REPO, 'server-proxy/dist/catalog/index.js');
if (!existsSync(distEntry)) {
  console.error('server-proxy/dist/catalog is missing: run `cd server-proxy && npm run build` first');
  process.exit(2);
}
const { planCatalogRun } = createRequire(import.meta.url)(distEntry);

const SCENARIOS = [
  ['no region', undefined],
  ['cone, 1° radius at (45, 20)', { type: 'cone', ra: 45, dec: 20, radiusArcsec: 3600 }],
  ['box, 10°×10° (100–110, 30–40)', { type: 'box', ra: [100, 110], dec: [30, 40] }],
  ['polygon, 4 vertices (~10°×10°)', { type: 'polygon', vertices: [[150, 10], [160, 12], [158, 22], [148, 18]] }],
];

function buildIndex() {
  const dir = join(REPO, `.run/bench/plan-index-o5-c${COLUMNS}`);
  const summaryFile = join(dir, 'summary.json');
  if (existsSync(summaryFile)) return JSON.parse(readFileSync(summaryFile, 'utf8'));
  mkdirSync(dirname(dir), { recursive: true });
  const t = performance.now();
  const out = execFileSync(PYTHON, ['bench/plan-bench.py', dir, '--order', '5', '--columns', String(COLUMNS), '--no-files'], { cwd: REPO, encoding: 'utf8' });
  const summary = { ...JSON.parse(out.trim().split('\n').pop()), buildSeconds: (performance.now() - t) / 1000 };
  writeFileSync(summaryFile, JSON.stringify(summary));
  return summary;
}

/** hats' own selection for the same regions (bench/plan-bench index has no rows to match). */
function hatsCounts(dir) {
  const regions = SCENARIOS.filter(([, r]) => r).map(([, r]) => r);
  const file = join(os.tmpdir(), `plan-bench-regions-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(regions));
  const out = JSON.parse(execFileSync(PYTHON, ['tests/fixtures/expected_partitions.py', dir, file, '--no-rows'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 }));
  return out.regions.map((r) => ({ hats: r.hats.length, near: r.near_hats.length }));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => (x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
const range = (xs) => `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;

/** Wall time, and CPU time of this process (less sensitive to other work on the machine). */
async function timed(request) {
  const c = process.cpuUsage();
  const t = performance.now();
  const plan = await planCatalogRun(request);
  const cpu = process.cpuUsage(c);
  return { total: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000, plan };
}

async function main() {
  const index = buildIndex();
  const load0 = os.loadavg();
  const started = new Date();

  const first = await timed({ catalogDir: index.dir, region: SCENARIOS[1][1], cache: false });
  const rows = [];
  for (const [label, region] of SCENARIOS) {
    const fresh = [];
    const cpu = [];
    const read = [];
    const select = [];
    let plan;
    for (let i = 0; i < RUNS; i++) {
      const r = await timed({ catalogDir: index.dir, region, cache: false });
      fresh.push(r.total);
      cpu.push(r.cpu);
      read.push(r.plan.timings.readMs);
      select.push(r.plan.timings.selectMs);
      plan = r.plan;
    }
    await planCatalogRun({ catalogDir: index.dir, region }); // fill the cache
    const cached = [];
    for (let i = 0; i < RUNS; i++) cached.push((await timed({ catalogDir: index.dir, region })).total);
    rows.push({ label, region, fresh, cpu, read, select, cached, plan });
  }
  const load1 = os.loadavg();
  const hats = hatsCounts(index.dir);

  const metadataMiB = statSync(join(index.dir, 'dataset/_metadata')).size / 2 ** 20;
  const lines = [];
  lines.push(`## Catalog planner: planning time for 12,288 partitions (order 5)`);
  lines.push('');
  lines.push(
    `Produced by \`cd server-proxy && npm run build && cd .. && node bench/plan-bench.mjs --columns ${COLUMNS} --runs ${RUNS}\` on ` +
      `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, against the built proxy (\`server-proxy/dist/catalog\`). ` +
      `Harness: [plan-bench.mjs](plan-bench.mjs); index writer: [plan-bench.py](plan-bench.py).`,
  );
  lines.push('');
  lines.push(
    `Index: every order-5 HEALPix pixel is a partition (${index.partitions.toLocaleString('en-US')}), ${index.columns} columns, ` +
      `${index.rows.toLocaleString('en-US')} rows; a real \`dataset/_metadata\` footer written by pyarrow with one row group per partition ` +
      `(column chunk statistics included, as lsdb writes them): **${metadataMiB.toFixed(1)} MiB**. ` +
      `Times in ms, median (min–max) of ${RUNS} runs, measured around \`planCatalogRun\` in one Node process.`,
  );
  lines.push('');
  lines.push(`- First plan in the process (cone; module load, JIT warm-up, reading _metadata): **${ms(first.total)} ms** (CPU ${ms(first.cpu)} ms).`);
  lines.push('');
  lines.push('| region | partitions selected (ours / hats / hats + neighbours) | plan, re-reading _metadata | its CPU time | of which reading + parsing the index | of which selecting | plan, parsed index cached |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  rows.forEach((r, i) => {
    const h = r.region ? hats[SCENARIOS.slice(1).findIndex(([l]) => l === r.label)] : undefined;
    const sel = h ? `${r.plan.totals.partitions} / ${h.hats} / ${h.near}` : `${r.plan.totals.partitions} (all)`;
    lines.push(`| ${r.label} | ${sel} | **${range(r.fresh)}** | ${range(r.cpu)} | ${range(r.read)} | ${range(r.select)} | **${range(r.cached)}** |`);
    void i;
  });
  lines.push('');
  lines.push(
    `- Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; load average (1/5/15 min) ` +
      `at start ${load0.map((x) => x.toFixed(2)).join(', ')}, at end ${load1.map((x) => x.toFixed(2)).join(', ')} ` +
      `(other sessions' builds and tests share the machine).`,
  );
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
