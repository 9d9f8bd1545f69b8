/**
 * @user-batch/contract: the one job contract of User Batch. zod only: no fs, no DOM, so the
 * proxy (Node), the lab extension (browser) and the generators all import it.
 */
export * from './python';
export * from './limits';
export * from './region';
export * from './shared';
export * from './kinds/cells';
export * from './kinds/notebook';
export * from './kinds/script';
export * from './kinds/catalog';
export * from './kinds/pipeline';
export * from './spec';
export * from './api';
export * from './plan';
export * from './pipeline';
export * from './jobdir';
export * from './quota-cost';
