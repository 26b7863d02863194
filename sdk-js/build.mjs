// Build dist/numu.js (full) and dist/numu.core.js (core), print gzipped sizes and
// SRI hashes, write dist/integrity.txt, and fail when a size budget is exceeded.
//
// Env (for tests / experiments): NUMU_OUTDIR=dir, NUMU_BUDGET_CORE=bytes, NUMU_BUDGET_FULL=bytes.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUDGETS, checkBudget, gzipSize, sri } from './scripts/budget.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(root, process.env.NUMU_OUTDIR || 'dist');
const budgets = {
  'numu.core.js': Number(process.env.NUMU_BUDGET_CORE) || BUDGETS['numu.core.js'],
  'numu.js': Number(process.env.NUMU_BUDGET_FULL) || BUDGETS['numu.js'],
};
const entries = { 'numu.core.js': 'src/core.ts', 'numu.js': 'src/full.ts' };

mkdirSync(outdir, { recursive: true });
const sizes = {};
const lines = [];
for (const [name, entry] of Object.entries(entries)) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(outdir, name),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2017',
    platform: 'browser',
    legalComments: 'none',
    // internal property names starting with "_" may be shortened
    mangleProps: /^_/,
    logLevel: 'warning',
    // no "use strict" prologue: nothing relies on it and it costs bytes
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
  });
  const buf = readFileSync(join(outdir, name));
  sizes[name] = gzipSize(buf);
  const hash = sri(buf);
  lines.push(`${name} ${hash}`);
  console.log(
    `${name.padEnd(13)} ${String(buf.length).padStart(6)} B min  ${String(sizes[name]).padStart(5)} B gzip` +
      `  (budget ${budgets[name]} B)  ${hash}`,
  );
}
writeFileSync(join(outdir, 'integrity.txt'), lines.join('\n') + '\n');

const errors = checkBudget(sizes, budgets);
if (errors.length) {
  for (const e of errors) console.error('SIZE BUDGET EXCEEDED: ' + e);
  process.exit(1);
}
console.log(`size budget ok; integrity written to ${join(outdir, 'integrity.txt')}`);
