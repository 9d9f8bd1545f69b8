import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { tempDir } from './helpers';

function site(backends: unknown[]): string {
  const dir = tempDir();
  const file = join(dir, 'site.json');
  writeFileSync(file, JSON.stringify({ backends }));
  return file;
}

describe('dask-gateway backend in the site config', () => {
  it('takes the gateway address, the scheduler proxy and where the secret is, never the secret itself', () => {
    const config = loadConfig({
      USER_BATCH_CONFIG: site([
        {
          name: 'dask',
          label: 'Dask',
          type: 'dask-gateway',
          address: 'https://gw.example.org/',
          proxyAddress: 'gateway://gw.example.org:8786',
          auth: { type: 'jupyterhub', tokenFile: '/run/secrets/token' },
        },
      ]),
    });
    expect(config.backends[0]).toEqual({
      name: 'dask',
      label: 'Dask',
      default: false,
      type: 'dask-gateway',
      daskGateway: {
        address: 'https://gw.example.org',
        proxyAddress: 'gateway://gw.example.org:8786',
        auth: { type: 'jupyterhub', tokenFile: '/run/secrets/token' },
        startTimeoutSeconds: 120,
      },
    });
  });

  it.each([
    ['no address', { auth: { type: 'basic', passwordFile: '/x' } }, /needs address/],
    ['no auth', { address: 'http://127.0.0.1:8790' }, /needs address \(http:\/\/host:port\) and auth/],
    ['a password in the config', { address: 'http://127.0.0.1:8790', auth: { type: 'basic', password: 'hunter2' } }, /auth/],
    ['an address that is not http', { address: 'ftp://x', auth: { type: 'basic', passwordFile: '/x' } }, /address/],
  ])('refuses a gateway backend with %s', (_what, extra, message) => {
    expect(() => loadConfig({ USER_BATCH_CONFIG: site([{ name: 'dask', label: 'Dask', type: 'dask-gateway', ...extra }]) })).toThrow(
      message,
    );
  });
});
