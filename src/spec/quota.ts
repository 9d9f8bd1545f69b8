/**
 * What a job would take of the quota, as the dialog's live line says it: the
 * contract's one cost function, so the dialog says what the proxy's ledger
 * will decide.
 */
export { quotaSummary } from '@user-batch/contract/lib/quota-cost';
