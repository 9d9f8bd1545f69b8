import fp from 'fastify-plugin';
import { JobService } from '../service';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobService;
  }
}

/** The job service: submit, state changes and the poll loop; reconciles on start, stops polling on close. */
export const jobsPlugin = fp(
  async app => {
    const { config } = app;
    const jobs = new JobService({
      db: app.db,
      store: app.store,
      ledger: app.ledger,
      files: app.files,
      hub: app.hub,
      backends: app.backends,
      log: app.log,
      catalogPlaces: { rootDir: config.rootDir, catalogRoots: config.catalogRoots },
      pipelines: app.pipelines,
    });
    app.decorate('jobs', jobs);
    app.addHook('onReady', async () => {
      await jobs.reconcile();
      jobs.startPolling(config.pollIntervalMs);
    });
    // before any onClose hook, so no poll touches the store once the database closes
    app.addHook('preClose', async () => jobs.stopPolling());
  },
  { name: 'jobs', dependencies: ['store', 'quota', 'backends', 'pipelines'] },
);
