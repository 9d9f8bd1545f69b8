/** Limits of the job spec, shared by the dialog (to say so before submitting) and the proxy (to refuse). */

/** The most items one sweep may have (one HTCondor cluster). */
export const MAX_SWEEP_ITEMS = 100_000;
/** The most cells one "cells" job may send. */
export const MAX_CELLS = 10_000;
/** The most cores one job (or one Dask worker) may ask for. */
export const MAX_CPUS = 256;
/** The most Dask workers one job's cluster may be asked for. */
export const MAX_WORKERS = 10_000;
/** The longest walltime: 30 days. */
export const MAX_WALLTIME_SECONDS = 30 * 24 * 3600;
/** The most memory one job (or one Dask worker) may ask for: 4 TiB. */
export const MAX_MEMORY_MIB = 4 * 1024 * 1024;
/** The least memory one job may ask for. */
export const MIN_MEMORY_MIB = 64;
/** A script's text at most (5 MB), the catalog function's source at most (1 MB). */
export const MAX_SCRIPT_CHARS = 5_000_000;
export const MAX_FUNCTION_CHARS = 1_000_000;
/** A catalog cone's radius at most: 180 degrees, in arcseconds. */
export const MAX_RADIUS_ARCSEC = 180 * 3600;
/** A polygon region's vertices at most. */
export const MAX_POLYGON_VERTICES = 1000;
