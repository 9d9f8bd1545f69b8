#!/usr/bin/env node
/**
 * Fill a proxy's store with N ended jobs of one user, through the proxy's own code (the built
 * server-proxy/dist: openDb's migrations, JobStore.insert, QuotaLedger.reserve and settle), for
 * the Batch jobs panel benchmark (bench/monitor-bench.spec.ts). Run before the proxy starts:
 *
 *   node bench/seed-jobs.mjs DATA_DIR [N=10000] [USER=scientist] [QUOTA_FILE]
 *
 * The jobs are spread over the last 60 days (so the quota's 24-hour window holds few of them),
 * over kinds, states, backends and accounts, with a sweep every 50th job; they have no files on
 * disk, so their logs and outputs read as empty. Prints how long the inserts took.
 */
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'server-proxy', 'dist');
const { openDb } = await import(join(dist, 'store', 'db.js'));
const { JobStore } = await import(join(dist, 'store', 'jobs.js'));
const { QuotaLedger, loadQuotaPolicy } = await import(join(dist, 'quota.js'));

const [dataDir, countArg = '10000', user = 'scientist', quotaFile] = process.argv.slice(2);
if (!dataDir) {
  console.error('usage: node bench/seed-jobs.mjs DATA_DIR [N] [USER] [QUOTA_FILE]');
  process.exit(2);
}
const count = Number(countArg);
const db = openDb(join(dataDir, 'user-batch.sqlite'));
const store = new JobStore(db);
const quota = new QuotaLedger(db, loadQuotaPolicy(quotaFile ?? process.env.USER_BATCH_QUOTA_FILE));

const KINDS = ['cells', 'notebook', 'script', 'catalog', 'pipeline'];
const STATES = ['succeeded', 'succeeded', 'succeeded', 'failed', 'cancelled'];
const BACKENDS = ['local', 'htcondor'];
const ACCOUNTS = [user, 'g_science_collab'];
const WORDS = ['fit', 'residuals', 'band', 'photometry', 'cutout', 'calib', 'mosaic', 'lightcurve'];
const span = 60 * 24 * 3600_000;
const now = Date.now();

const started = performance.now();
db.transaction(() => {
  for (let i = 0; i < count; i++) {
    // oldest first, as they would have been submitted
    const created = now - span + Math.floor((i * span) / count);
    const createdAt = new Date(created).toISOString();
    const startedAt = new Date(created + 2_000).toISOString();
    const endedAt = new Date(created + 2_000 + 30_000 + (i % 17) * 1_000).toISOString();
    const id = `seed${String(i).padStart(6, '0')}`;
    const kind = KINDS[i % KINDS.length];
    const state = STATES[i % STATES.length];
    const sweep = i % 50 === 0 ? 4 + (i % 7) : 0;
    const items = sweep ? Array.from({ length: sweep }, (_, k) => (state === 'failed' && k === 1 ? 'f' : 'd')).join('') : undefined;
    const progress = sweep
      ? { total: sweep, done: items.split('').filter(l => l === 'd').length, failed: state === 'failed' ? 1 : 0, items }
      : { total: 3, done: state === 'succeeded' ? 3 : 1, failed: state === 'failed' ? 1 : 0 };
    const resources = { cpus: 1, memoryMiB: 1024, walltimeSeconds: 60 };
    const name = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${i}`;
    const notebookPath = `analysis/${WORDS[i % 5]}/nb${i % 40}.ipynb`;
    const backend = BACKENDS[i % BACKENDS.length];
    // shaped like a submitted cells job's spec (server-proxy/test/helpers.ts cellsSpec)
    const spec = {
      name,
      kind: 'cells',
      source: { notebookPath, cells: [{ id: 'c1', role: 'main', source: `print(${i})` }] },
      parameters: {},
      resources,
      backend,
    };
    const specText = JSON.stringify(spec);
    const account = ACCOUNTS[i % ACCOUNTS.length];
    store.insert({
      id,
      user,
      name,
      kind,
      backend,
      account,
      state,
      stateReason: null,
      createdAt,
      startedAt,
      endedAt,
      exitCode: state === 'succeeded' ? 0 : 1,
      resources,
      progress,
      outputDir: `batch-jobs/${id}`,
      outputNotebook: null,
      error:
        state === 'failed'
          ? { ename: 'ValueError', evalue: `bad value in run ${i}`, traceback: 'Traceback (most recent call last):\nValueError', cellId: 'c1' }
          : null,
      cost: { reservedCoreHours: 0, usedCoreHours: null },
      notebookPath,
      spec,
      specSha256: createHash('sha256').update(specText).digest('hex'),
      code: [],
      backendRef: null,
      cancelRequested: false,
    });
    quota.reserve(id, user, [], account, { cpus: 1, memoryMiB: 1024, walltimeSeconds: 60 }, createdAt);
    quota.settle(id, startedAt, endedAt);
  }
}).immediate();
db.close();
console.error(`[seed-jobs] ${count} jobs for ${user} in ${Math.round(performance.now() - started)} ms`);
