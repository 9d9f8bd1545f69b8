type Hyparquet = typeof import('hyparquet', { with: { 'resolution-mode': 'import' } });

let hyparquet: Promise<Hyparquet> | undefined;

/**
 * hyparquet is published as ES modules only and this package compiles to CommonJS, so it is
 * loaded with a real dynamic import() (TypeScript keeps import() as is under module node16).
 * In a module of its own so tests, whose CommonJS runtime cannot import() ES modules, can
 * replace it with jest.mock.
 */
export function loadHyparquet(): Promise<Hyparquet> {
  hyparquet ??= import('hyparquet');
  return hyparquet;
}
