import fp from 'fastify-plugin';
import { loadQuotaPolicy, QuotaLedger } from '../quota';

declare module 'fastify' {
  interface FastifyInstance {
    ledger: QuotaLedger;
  }
}

/** The quota ledger: the site's policy over the store's reservations. */
export const quotaPlugin = fp(
  async app => {
    app.decorate('ledger', new QuotaLedger(app.db, loadQuotaPolicy(app.config.quotaFile)));
  },
  { name: 'quota', dependencies: ['store'] },
);
