// Size budget for the browser bundles (gzipped bytes). Used by build.mjs and tested by test/budget.test.ts.
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

/** Budgets in gzipped bytes: core 1.5 KiB, full 5 KiB. */
export const BUDGETS = { 'numu.core.js': 1536, 'numu.js': 5120 };

/** Gzipped size at the highest level (what a server's precompressed asset would be). */
export function gzipSize(buf) {
  return gzipSync(buf, { level: 9 }).length;
}

/** Subresource Integrity value for a file's bytes. */
export function sri(buf) {
  return 'sha384-' + createHash('sha384').update(buf).digest('base64');
}

/**
 * Compare sizes with budgets. `sizes` maps file name -> gzipped bytes.
 * Returns one message per file over budget (empty array = within budget).
 * A budgeted file missing from `sizes` is an error too.
 */
export function checkBudget(sizes, budgets = BUDGETS) {
  const errors = [];
  for (const [name, limit] of Object.entries(budgets)) {
    const size = sizes[name];
    if (typeof size !== 'number') errors.push(`${name}: not built`);
    else if (size > limit) errors.push(`${name}: ${size} B gzipped exceeds budget of ${limit} B by ${size - limit} B`);
  }
  return errors;
}
