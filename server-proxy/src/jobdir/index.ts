/**
 * The job folder: the one place the proxy writes a job's inputs and reads back what the runner
 * left (the contract's JOB_FILES). Backends use it; no backend imports another.
 */
export * from './files';
export * from './outcome';
export * from './read';
