import fp from 'fastify-plugin';
import { JobDeleter } from '../deletion';

declare module 'fastify' {
  interface FastifyInstance {
    deleter: JobDeleter;
  }
}

/** Deleting finished jobs; on start, finishes removing the files of jobs deleted before a crash. */
export const deletionsPlugin = fp(
  async app => {
    const deleter = new JobDeleter({
      db: app.db,
      store: app.store,
      files: app.files,
      hub: app.hub,
      backends: app.backends,
      log: app.log,
      proxyVersion: app.config.version,
    });
    app.decorate('deleter', deleter);
    app.addHook('onReady', async () => deleter.finishPending());
  },
  { name: 'deletions', dependencies: ['store', 'backends'] },
);
