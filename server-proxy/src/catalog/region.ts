import { Region } from '@user-batch/contract';
import { CatalogError } from './errors';

/** The sky region schemas are the contract's (@user-batch/contract, region.ts); here only the planner's strict reader. */
export { BoxRegion, ConeRegion, PolygonRegion, Region } from '@user-batch/contract';
export { MAX_RADIUS_ARCSEC } from '@user-batch/contract';

/** Validate a region, throwing a CatalogError whose message lists every problem found. */
export function parseRegion(input: unknown): Region {
  const result = Region.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(i => i.message);
  throw new CatalogError('invalid_region', `Invalid region: ${[...new Set(problems)].join('; ')}`);
}
