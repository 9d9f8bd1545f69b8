/**
 * Pure functions that turn a notebook and a dialog's values into a JobSpec,
 * one module per concern. Nothing here touches the DOM or the network.
 */
export * from './build';
export * from './cells';
export * from './ids';
export * from './literals';
export * from './quota';
export * from './sweeps';
export * from './workers';
