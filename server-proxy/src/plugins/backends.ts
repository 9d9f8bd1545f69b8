import fp from 'fastify-plugin';
import { DaskGatewayBackend } from '../backends/dask-gateway';
import { makeHTCondorBackend } from '../backends/htcondor';
import { LocalBackend } from '../backends/local';
import type { Backend } from '../backends/types';
import { EventHub } from '../events';
import { JobFiles } from '../jobdir';

declare module 'fastify' {
  interface FastifyInstance {
    files: JobFiles;
    hub: EventHub;
    backends: Map<string, Backend>;
  }
}

/** The job folders, the event hub and one backend per configured name. */
export const backendsPlugin = fp(
  async app => {
    const { config } = app;
    const files = new JobFiles(config.dataDir, config.rootDir);
    const localBackend = (): LocalBackend =>
      new LocalBackend({
        files,
        runnerCommand: config.runnerCommand,
        cancelGraceMs: config.cancelGraceMs,
        walltimeGraceMs: config.walltimeGraceMs,
      });
    const backends = new Map<string, Backend>();
    for (const b of config.backends) {
      if (b.type === 'htcondor' && b.htcondor) {
        backends.set(b.name, makeHTCondorBackend(b.name, b.htcondor, config, files));
      } else if (b.type === 'dask-gateway' && b.daskGateway) {
        // the job's driver runs here, like a local job; its Dask work runs on the gateway's cluster
        backends.set(b.name, new DaskGatewayBackend({ name: b.name, site: b.daskGateway, driver: localBackend() }));
      } else {
        backends.set(b.name, localBackend());
      }
    }
    const hub = new EventHub();
    app.decorate('files', files);
    app.decorate('hub', hub);
    app.decorate('backends', backends);
    // open event streams would keep close() waiting forever: end them first
    app.addHook('preClose', async () => hub.closeAll());
  },
  { name: 'backends', dependencies: ['store'] },
);
