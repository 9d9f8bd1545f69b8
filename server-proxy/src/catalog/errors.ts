/**
 * Why a catalog run cannot be planned. The message is meant for the scientist who asked: it says
 * what is wrong and what to do. `code` lets the API map it to a status later:
 * - `not_hats`: the folder is not a (usable) HATS catalog
 * - `invalid_region`: the sky region is malformed or out of range
 * - `unknown_column`: a requested column is not in the catalog
 */
export type CatalogErrorCode = 'not_hats' | 'invalid_region' | 'unknown_column';

export class CatalogError extends Error {
  constructor(
    readonly code: CatalogErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}
