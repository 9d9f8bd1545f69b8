export { CatalogError, type CatalogErrorCode } from './errors';
export { type CatalogInfo, type Column, type Partition, readCatalogInfo } from './hats';
export { type CatalogPlan, CatalogPlanRequest, DEFAULT_SECONDS_PER_MILLION_ROWS, planCatalogRun, type PlannedPartition } from './plan';
export { BoxRegion, ConeRegion, parseRegion, PolygonRegion, Region } from './region';
