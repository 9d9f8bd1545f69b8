/**
 * Galata in Debian's Chromium (Playwright cannot download its own browser here) against a real
 * JupyterLab started by start-jupyter.sh.
 */
import baseConfig from '@jupyterlab/galata/lib/playwright-config';

const port = process.env.UI_TEST_PORT ?? '8899';

module.exports = {
  ...baseConfig,
  testDir: './tests',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  retries: 0,
  workers: 1,
  outputDir: './test-results',
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    video: 'off',
    screenshot: 'only-on-failure',
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
    command: 'bash ./start-jupyter.sh',
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe'
  }
};
