import { Writable } from 'node:stream';
import { buildApp, loggerOptions } from '../src/app';
import { testConfig } from './helpers';

describe('logging', () => {
  it('writes structured JSON lines and never the launch secret or a Jupyter token', async () => {
    const { config } = testConfig({ USER_BATCH_SECRET: 'top-secret-value' }, { logLevel: 'debug' });
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter(l => l.length > 0),
        );
        done();
      },
    });
    const options = loggerOptions(config);
    const app = await buildApp(config, { logger: typeof options === 'object' ? { ...options, stream } : options });
    try {
      await app.inject({ method: 'GET', url: '/api/jobs', headers: { 'x-user-batch-secret': 'top-secret-value' } });
      await app.inject({ method: 'GET', url: '/api/jobs', headers: { 'x-user-batch-secret': 'wrong' } });
      await app.inject({
        method: 'GET',
        url: '/api/quota?token=jupyter-token-value',
        headers: { 'x-user-batch-secret': 'top-secret-value' },
      });
      app.log.info({ headers: { 'x-user-batch-secret': 'top-secret-value' } }, 'a careless log call');
    } finally {
      await app.close();
    }
    const records = lines.map(l => JSON.parse(l) as { msg?: string; headers?: Record<string, string> });
    expect(records.filter(r => r.msg === 'request completed')).toHaveLength(3);
    expect(records.find(r => r.msg === 'a careless log call')?.headers?.['x-user-batch-secret']).toBe('[redacted]');
    expect(lines.join('\n')).not.toContain('top-secret-value');
    expect(lines.join('\n')).not.toContain('jupyter-token-value');
    expect(lines.join('\n')).toContain('/api/quota?token=[redacted]');
  });

  it('logs requests at debug when asked (under JupyterLab), keeping warnings and errors', async () => {
    const { config } = testConfig({ USER_BATCH_REQUEST_LOG_LEVEL: 'debug' }, { logLevel: 'info' });
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const options = loggerOptions(config);
    const app = await buildApp(config, { logger: typeof options === 'object' ? { ...options, stream } : options });
    try {
      for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: '/api/jobs' });
      app.log.warn('a warning');
    } finally {
      await app.close();
    }
    const messages = lines.map(l => (JSON.parse(l) as { msg?: string }).msg);
    expect(messages).not.toContain('request completed');
    expect(messages).toContain('a warning');
  });
});
