import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { type CatalogPlan, CatalogError, planCatalogRun, type Region } from './catalog';
import { HttpError } from './errors';

/** Where catalogs may be read from: the user's Jupyter root and the site's catalog folders. */
export interface CatalogPlaces {
  rootDir: string;
  catalogRoots: readonly string[];
}

const inside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * The catalog folder a spec names, as an absolute real path (symlinks followed, so a link cannot
 * lead out of the allowed folders), or a 400 that says where catalogs may be.
 */
export function resolveCatalogDir(path: string, places: CatalogPlaces): string {
  const wanted = isAbsolute(path) ? resolve(path) : resolve(places.rootDir, path);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new HttpError(
      400,
      'not_hats',
      `There is no catalog folder at ${path}; give the path of a HATS catalog folder (the one holding partition_info.csv).`,
    );
  }
  if (!statSync(real).isDirectory()) {
    throw new HttpError(400, 'not_hats', `${path} is a file, not a catalog folder; give the folder that holds partition_info.csv.`);
  }
  const roots = [places.rootDir, ...places.catalogRoots].map(r => {
    try {
      return realpathSync(r);
    } catch {
      return resolve(r);
    }
  });
  if (!roots.some(root => inside(real, root))) {
    throw new HttpError(
      400,
      'catalog_not_allowed',
      `Catalogs are read from your Jupyter folder or the site's catalog folders (${places.catalogRoots.join(', ') || 'none configured'}); ${path} is elsewhere.`,
    );
  }
  return real;
}

export interface CatalogPlanInput {
  path: string;
  region?: Region;
  columns?: string[];
  cpus?: number;
}

/** Plan a run for the API: the planner's own errors become 400s with its sentence. */
export async function planForApi(input: CatalogPlanInput, places: CatalogPlaces): Promise<{ dir: string; plan: CatalogPlan }> {
  const dir = resolveCatalogDir(input.path, places);
  try {
    const plan = await planCatalogRun({ catalogDir: dir, region: input.region, columns: input.columns, cpus: input.cpus });
    return { dir, plan };
  } catch (err) {
    if (err instanceof CatalogError) throw new HttpError(400, err.code, err.message);
    throw err;
  }
}
