import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { Config } from '../config';
import { openDb, type Db } from '../store/db';
import { JobStore } from '../store/jobs';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Db;
    store: JobStore;
  }
}

/** The site config and the job store (SQLite in the data dir); the database closes last. */
export const storePlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const db = openDb(join(config.dataDir, 'user-batch.sqlite'));
    app.decorate('config', config);
    app.decorate('db', db);
    app.decorate('store', new JobStore(db));
    app.addHook('onClose', async () => db.close());
  },
  { name: 'store' },
);
