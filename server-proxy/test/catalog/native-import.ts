import * as vm from 'node:vm';

/**
 * import() of an ES module from inside jest. Jest runs tests as CommonJS in its own VM context,
 * where import() of an ESM-only package (hyparquet) fails without --experimental-vm-modules.
 * This compiles a tiny function in the main context with Node's own ESM loader. The module's
 * objects then belong to the main realm; hyparquet's `instanceof ArrayBuffer` still holds because
 * Node's fs hands out main-realm buffers too.
 */
const importInMainContext = vm.runInThisContext('(specifier) => import(specifier)', {
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
} as vm.RunningScriptOptions) as (specifier: string) => Promise<unknown>;

export function nativeImport<T>(specifier: string): Promise<T> {
  return importInMainContext(require.resolve(specifier)) as Promise<T>;
}
