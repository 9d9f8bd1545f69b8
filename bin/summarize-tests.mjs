// Adds up the results each suite left in .run/test-results and prints one closing line.
// A suite that left no result file, or ran no test, counts as a failure: a silent suite is a
// missing suite. Usage: node summarize-tests.mjs DIR SUITE...
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...suites] = process.argv.slice(2);
const counts = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

const readers = {
  // jest --json; a test file that failed to load has no assertions but counts as failed
  jest(file) {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    const broken = r.testResults.filter(t => t.status === 'failed' && t.assertionResults.length === 0).length;
    return [r.numPassedTests, r.numFailedTests + broken, r.numPendingTests + r.numTodoTests];
  },
  junit(file) {
    const xml = readFileSync(file, 'utf8');
    const attr = name => Number((xml.match(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`)) || [])[1] || 0);
    const failed = attr('failures') + attr('errors');
    const skipped = attr('skipped');
    return [attr('tests') - failed - skipped, failed, skipped];
  },
  playwright(file) {
    const s = JSON.parse(readFileSync(file, 'utf8')).stats;
    return [s.expected + s.flaky, s.unexpected, s.skipped];
  }
};
const files = {
  lint: ['lint.xml', 'junit'],
  contract: ['contract.json', 'jest'],
  proxy: ['proxy.json', 'jest'],
  ext: ['ext.json', 'jest'],
  python: ['python.xml', 'junit'],
  wheel: ['wheel.xml', 'junit'],
  gateway: ['gateway.xml', 'junit'],
  ui: ['ui.json', 'playwright'],
  // the htcondor backend (jest) and pipelines through BPS (pytest), both on the real pool
  condor: [
    ['condor.json', 'jest'],
    ['condor-bps.xml', 'junit']
  ],
  dask: ['dask.json', 'jest']
};

for (const suite of suites) {
  // a suite leaves one result file, or several (one per runner): [name, kind] or a list of them
  const entries = Array.isArray(files[suite][0]) ? files[suite] : [files[suite]];
  for (const [name, kind] of entries) {
    const file = join(dir, name);
    if (!existsSync(file)) {
      problems.push(`${suite}: left no result file ${name} (it did not run to the end)`);
      continue;
    }
    const [passed, failed, skipped] = readers[kind](file);
    counts.passed += passed;
    counts.failed += failed;
    counts.skipped += skipped;
    if (passed + failed === 0) problems.push(`${suite}: ${name} ran no test`);
    console.log(`${suite} (${name}): ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
for (const p of problems) console.log(`problem: ${p}`);
if (counts.skipped) console.log(`problem: ${counts.skipped} skipped (a skipped test counts as missing)`);
console.log(`Total: ${counts.passed} passed, ${counts.failed} failed`);
process.exit(counts.failed || problems.length || counts.skipped ? 1 : 0);
