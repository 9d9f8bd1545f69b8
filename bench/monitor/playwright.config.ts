/**
 * The Batch jobs panel benchmark: the UI tests' real JupyterLab (ui-tests/start-jupyter.sh) on
 * its own port, its store filled with 10,000 ended jobs by bench/seed-jobs.mjs before the proxy
 * starts. Run from ui-tests (its Playwright): see bench/RESULTS.md.
 */
import baseConfig from '@jupyterlab/galata/lib/playwright-config';

const port = process.env.UI_TEST_PORT ?? '8897';
const jobs = process.env.UI_TEST_SEED_JOBS ?? '10000';

module.exports = {
  ...baseConfig,
  testDir: '.',
  testMatch: 'monitor-bench.spec.ts',
  timeout: 600_000,
  expect: { timeout: 120_000 },
  retries: 0,
  workers: 1,
  outputDir: '../../ui-tests/test-results/monitor-bench',
  reporter: 'list',
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'off',
    video: 'off',
    viewport: { width: 1600, height: 1000 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: `UI_TEST_PORT=${port} UI_TEST_SEED_JOBS=${jobs} bash ../../ui-tests/start-jupyter.sh`,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe'
  }
};
