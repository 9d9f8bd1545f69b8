// Builds the proxy as the Python wheel ships it (hatch_build.py runs this): one JavaScript file
// made by esbuild from src/server.ts and everything it imports, plus what cannot go into a bundle
// next to it. Layout of OUT (default server-proxy/bundle), the same shape as this package, so
// serverproxy.py runs OUT/dist/server.js and config.ts still finds OUT/package.json's version:
//   package.json                   name and version only
//   dist/server.js                 the bundle
//   node_modules/better-sqlite3    kept out of the bundle: a native module for this platform and
//   node_modules/bindings          Node ABI, loaded through `bindings`, which looks for the .node
//   node_modules/file-uri-to-path  file next to the package.json above the calling file
// What else a bundle could break, checked on esbuild's output:
// - hyparquet is ESM only, loaded by import() (catalog/hyparquet-loader.ts): esbuild bundles it
//   and turns the import() into a lazy CommonJS require, so nothing is loaded from disk.
// - pino's worker transports (thread-stream) resolve worker files from __dirname: the proxy
//   configures no transport (it logs to stdout), so that code never runs and they are not shipped.
// - @fastify/swagger reads its own package.json from __dirname only for default API info; we
//   give the info (app.ts), and it falls back to {} anyway. It serves no static files (no UI).
// Usage: node scripts/bundle.mjs [OUT]
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const proxyRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(proxyRoot, 'bundle'));

/** The folder of `name` as Node resolves it from `from` (wherever npm put node_modules). */
function packageDir(name, from) {
  return dirname(createRequire(join(from, 'package.json')).resolve(`${name}/package.json`));
}

/** Copies the listed files and folders of a package; each must exist, or the bundle would not run. */
function copyPackage(name, dir, entries) {
  const target = join(out, 'node_modules', name);
  for (const entry of ['package.json', ...entries]) {
    const from = join(dir, entry);
    if (!existsSync(from)) throw new Error(`${name}: ${from} is missing (was it built? run npm ci in server-proxy)`);
    mkdirSync(dirname(join(target, entry)), { recursive: true });
    cpSync(from, join(target, entry), { recursive: true });
  }
}

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [join(proxyRoot, 'src', 'server.ts')],
  outfile: join(out, 'dist', 'server.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3'],
  logLevel: 'warning',
});

const pkg = JSON.parse(readFileSync(join(proxyRoot, 'package.json'), 'utf8'));
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true }, null, 2)}\n`);

const sqlite = packageDir('better-sqlite3', proxyRoot);
copyPackage('better-sqlite3', sqlite, ['LICENSE', 'lib', 'build/Release/better_sqlite3.node']);
const bindings = packageDir('bindings', sqlite);
copyPackage('bindings', bindings, ['LICENSE.md', 'bindings.js']);
copyPackage('file-uri-to-path', packageDir('file-uri-to-path', bindings), ['LICENSE', 'index.js']);
console.log(`proxy bundled in ${out}`);
