import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JS module without types
import { BUDGETS, checkBudget, gzipSize, sri } from '../scripts/budget.mjs';

test('checkBudget: within, over and missing', () => {
  assert.deepEqual(checkBudget({ 'numu.core.js': 1536, 'numu.js': 5120 }), []);
  const over = checkBudget({ 'numu.core.js': 1537, 'numu.js': 100 });
  assert.equal(over.length, 1);
  assert.match(over[0], /numu\.core\.js: 1537 B gzipped exceeds budget of 1536 B/);
  assert.equal(checkBudget({ 'numu.js': 1 }).length, 1, 'a missing bundle is an error');
  assert.equal(BUDGETS['numu.core.js'], 1536, 'core: 1.5 KB gzipped');
  assert.equal(BUDGETS['numu.js'], 5120, 'full: 5 KB gzipped');
});

test('gzipSize and sri', () => {
  const buf = Buffer.from('a'.repeat(10_000));
  assert.ok(gzipSize(buf) < 100);
  // sha384("abc") = cb00753f...c825a7 (FIPS 180-2 test vector), base64-encoded
  assert.equal(sri(Buffer.from('abc')), 'sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn');
});

const root = process.cwd();
function runBuild(env: Record<string, string>) {
  const out = mkdtempSync(join(tmpdir(), 'numu-build-'));
  const r = spawnSync(process.execPath, ['build.mjs'], {
    cwd: root,
    env: { ...process.env, NUMU_OUTDIR: out, ...env },
    encoding: 'utf8',
  });
  return { ...r, out };
}

test('npm run build fails when a bundle is over budget', () => {
  const r = runBuild({ NUMU_BUDGET_CORE: '500' });
  try {
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /SIZE BUDGET EXCEEDED: numu\.core\.js/);
  } finally {
    rmSync(r.out, { recursive: true, force: true });
  }
});

test('the real build is within budget and writes bundles + integrity', () => {
  const r = runBuild({});
  try {
    assert.equal(r.status, 0, r.stderr);
    const full = readFileSync(join(r.out, 'numu.js'));
    const core = readFileSync(join(r.out, 'numu.core.js'));
    assert.ok(gzipSize(core) <= BUDGETS['numu.core.js']);
    assert.ok(gzipSize(full) <= BUDGETS['numu.js']);
    const integrity = readFileSync(join(r.out, 'integrity.txt'), 'utf8');
    assert.ok(integrity.includes(`numu.js ${sri(full)}`));
    assert.ok(integrity.includes(`numu.core.js ${sri(core)}`));
    assert.match(r.stdout, /sha384-/);
    assert.match(r.stdout, /size budget ok/);
  } finally {
    rmSync(r.out, { recursive: true, force: true });
  }
});
