import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { tempDir } from './helpers';

function siteConfig(dir: string, backends: unknown[]): string {
  const file = join(dir, 'site.json');
  writeFileSync(file, JSON.stringify({ backends }));
  return file;
}

describe('htcondor backend in the site config', () => {
  it('is parsed next to the local default, which keeps its meaning', () => {
    const dir = tempDir();
    const config = loadConfig({
      USER_BATCH_DATA_DIR: join(dir, 'data'),
      USER_BATCH_ROOT_DIR: join(dir, 'root'),
      USER_BATCH_CONFIG: siteConfig(dir, [
        { name: 'local', label: 'Here', default: true },
        { name: 'htcondor', label: 'Pool', type: 'htcondor', commandPrefix: ['ssh', 'submit-host'], stagingDir: dir },
      ]),
    });
    expect(config.backends[0]).toEqual({ name: 'local', label: 'Here', default: true, type: 'local' });
    expect(config.backends[1]).toMatchObject({
      name: 'htcondor',
      type: 'htcondor',
      htcondor: { commandPrefix: ['ssh', 'submit-host'], stagingDir: dir, requestDiskKiB: 1048576 },
    });
  });

  it('refuses an htcondor backend without a staging folder', () => {
    const dir = tempDir();
    expect(() => loadConfig({ USER_BATCH_CONFIG: siteConfig(dir, [{ name: 'htcondor', label: 'Pool', type: 'htcondor' }]) })).toThrow(
      /needs stagingDir/,
    );
  });

  it('refuses to start when the job folders are not on the staging folder the execute nodes share', async () => {
    const dir = tempDir();
    const config = loadConfig({
      USER_BATCH_DATA_DIR: join(dir, 'data'),
      USER_BATCH_ROOT_DIR: join(dir, 'root'),
      USER_BATCH_CONFIG: siteConfig(dir, [{ name: 'htcondor', label: 'Pool', type: 'htcondor', stagingDir: join(dir, 'elsewhere') }]),
    });
    await expect(buildApp({ ...config, logLevel: 'silent' }, { logger: false })).rejects.toThrow(/is not inside the staging folder/);
  });
});
