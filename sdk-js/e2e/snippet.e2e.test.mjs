// End to end in headless Chromium: the built snippet on pages served by a real `numu serve`,
// every outcome asserted through the server's read endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startStack, runId, prop, repo } from './harness.mjs';

let stack;
const shots = path.join(repo, 'test-artifacts/sdk-e2e');

before(async () => {
  mkdirSync(shots, { recursive: true });
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

const hasRun = (run) => (e) => (e.url || '').includes(run) || prop(e, 'run') === run;

async function open(page, run, file = 'index.html') {
  await page.goto(`${stack.base}/site/${file}?run=${run}`);
  await page.waitForFunction(() => typeof window.numu === 'function' && !Array.isArray(window.numu.q));
}

test('a page view lands', async () => {
  const run = runId('pageview');
  const page = await stack.browser.newPage();
  await open(page, run);
  await page.screenshot({ path: path.join(shots, 'home.png') });
  const views = await stack.waitFor((e) => e.event === '$pageview' && hasRun(run)(e));
  assert.equal(views.length, 1, 'exactly one page view');
  assert.equal(views[0].path, '/site/index.html');
  await page.close();
});

test('a single-page-app navigation lands', async () => {
  const run = runId('spa');
  const page = await stack.browser.newPage();
  await open(page, run);
  await page.click('#spa');
  const views = await stack.waitFor((e) => e.event === '$pageview' && (e.url || '').includes('view=pricing') && hasRun(run)(e));
  assert.equal(views.length, 1);
  await page.close();
});

test('a click lands with its coordinates within a pixel', async () => {
  const run = runId('click');
  const page = await stack.browser.newPage({ viewport: { width: 1024, height: 700 } });
  await open(page, run);
  await page.mouse.click(237, 171);
  const clicks = await stack.waitFor((e) => e.event === '$click' && hasRun(run)(e));
  assert.equal(clicks.length, 1, JSON.stringify(clicks));
  assert.ok(Math.abs(Number(prop(clicks[0], 'x')) - 237) <= 1, JSON.stringify(clicks[0].properties));
  assert.ok(Math.abs(Number(prop(clicks[0], 'y')) - 171) <= 1, JSON.stringify(clicks[0].properties));
  assert.equal(Number(prop(clicks[0], 'vw')), 1024);
  await page.close();
});

test('scroll depth lands when the visitor leaves', async () => {
  const run = runId('scroll');
  const page = await stack.browser.newPage({ viewport: { width: 1024, height: 700 } });
  await open(page, run);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForTimeout(300);
  await page.goto(`${stack.base}/site/other.html`);
  const scrolls = await stack.waitFor((e) => e.event === '$scroll' && hasRun(run)(e));
  assert.equal(scrolls.length, 1);
  assert.ok(Number(prop(scrolls[0], 'depth')) >= 95, JSON.stringify(scrolls[0].properties));
  await page.close();
});

test('closing the tab right after an event still delivers it', async () => {
  const run = runId('close');
  const page = await stack.browser.newPage();
  await open(page, run);
  await page.evaluate((r) => window.numu.track('closing_tab', { run: r }), run);
  await page.close({ runBeforeUnload: true });
  const events = await stack.waitFor((e) => e.event === 'closing_tab' && prop(e, 'run') === run);
  assert.equal(events.length, 1);
});

test('offline events are kept and delivered when the browser is back online', async () => {
  const run = runId('offline');
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  await open(page, run);
  await context.setOffline(true);
  await page.evaluate((r) => window.numu.track('while_offline', { run: r }), run);
  await page.waitForTimeout(2500);
  assert.equal((await stack.events('&event=while_offline')).filter((e) => prop(e, 'run') === run).length, 0);
  await context.setOffline(false);
  const events = await stack.waitFor((e) => e.event === 'while_offline' && prop(e, 'run') === run);
  assert.equal(events.length, 1, 'delivered once');
  await context.close();
});

test('calls made before the script loads are not lost', async () => {
  const run = runId('preload');
  const page = await stack.browser.newPage();
  await open(page, run, 'preload.html');
  const events = await stack.waitFor((e) => e.event === 'early_call' && prop(e, 'run') === run);
  assert.equal(events.length, 1);
  await page.close();
});

test('optOut stops all traffic', async () => {
  const run = runId('optout');
  const page = await stack.browser.newPage();
  const sent = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/e') sent.push(r.url()); });
  await open(page, run);
  await stack.waitFor((e) => e.event === '$pageview' && hasRun(run)(e));
  await page.evaluate(() => window.numu.optOut());
  const before = sent.length;
  await page.evaluate((r) => { window.numu.track('after_optout', { run: r }); window.numu.flush(); }, run);
  await page.click('#cta');
  await page.waitForTimeout(3000);
  const landed = (await stack.events('&event=after_optout')).filter((e) => prop(e, 'run') === run);
  assert.equal(landed.length, 0, 'nothing lands after optOut');
  assert.equal(sent.length, before, 'no request leaves the page after optOut');
  await page.close();
});
