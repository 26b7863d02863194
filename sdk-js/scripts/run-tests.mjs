// Bundle test/*.test.ts with esbuild (no type stripping needed at run time, works
// offline on Node 20) into .test-out/, then run them with node's built-in test runner.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.test-out');
const only = process.argv.slice(2);
const tests = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: tests.map((f) => join(root, 'test', f)),
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  packages: 'external',
  logLevel: 'warning',
});

const files = tests.map((f) => join(out, f.replace(/\.ts$/, '.mjs')));
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
