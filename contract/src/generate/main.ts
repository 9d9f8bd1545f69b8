import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generatedFiles } from './files';

/** Writes every generated file (npm run generate -w contract); the repository root is two folders above lib/generate. */
const root = resolve(process.argv[2] ?? join(__dirname, '..', '..', '..'));
for (const [path, text] of generatedFiles()) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${path}`);
}
