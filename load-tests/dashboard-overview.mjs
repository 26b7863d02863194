// Benchmark (not in the default test run): the dashboard's overview page load, from
// navigation to the charts drawn, in headless Chromium against a running `numu serve`.
//   node load-tests/dashboard-overview.mjs BASE_URL EMAIL PASSWORD [RUNS]
// Needs `make dashboard` (dashboards/node_modules has playwright-core). Prints JSON.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../dashboards/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [base, email, password, runsText = '5'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
// The browser's own clock: from the navigation's start to the first animation frame after
// the chart and the funnel are in the page (the frame that shows them), without the test
// driver's round trips.
await context.addInitScript(() => {
  let seen = false;
  new MutationObserver(() => {
    if (!seen && document.querySelector('[data-testid=visitors-chart][data-drawn] canvas')
      && document.querySelector('[data-testid=funnel] .step')) {
      seen = true;
      requestAnimationFrame(() => { window.__numuDrawn = performance.now(); });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
});
const page = await context.newPage();
// Each question the page asks, timed by the browser (request start to response end).
const questions = {};
page.on('requestfinished', (request) => {
  if (!request.url().endsWith('/query')) return;
  const kind = request.postDataJSON()?.kind ?? '?';
  (questions[kind] ??= []).push(Math.round(request.timing().responseEnd));
});
await page.goto(`${base}/`);
await page.fill('input[name=email]', email);
await page.fill('input[name=password]', password);
await page.click('button[type=submit]');
await page.waitForSelector('nav');
// Signing in lands on the overview, which asks its questions at once. Leaving before they are
// answered would not stop them on the server (an abandoned request still runs to its end), and
// they would slow the first measured load.
await page.waitForFunction(() => window.__numuDrawn, null, { polling: 'raf', timeout: 120_000 });
const times = [];
const inPage = [];
for (let i = 0; i < Number(runsText); i++) {
  const started = Date.now();
  await page.goto(`${base}/?run=${i}#/overview`);
  // Polled every frame: `waitForSelector` backs off to one look per 500 ms, which rounded
  // every earlier figure up to the next half second.
  const drawn = await page.waitForFunction(() => window.__numuDrawn, null, { polling: 'raf', timeout: 120_000 });
  times.push(Date.now() - started);
  inPage.push(Math.round(await drawn.jsonValue()));
}
const visitors = await page.getAttribute('[data-metric=visitors] strong', 'data-raw');
await browser.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perQuestion = Object.fromEntries(Object.entries(questions).map(([k, xs]) => [k, { runs_ms: xs, median_ms: median(xs) }]));
console.log(JSON.stringify({
  runs_ms: times, first_ms: times[0], median_ms: median(times),
  in_page_runs_ms: inPage, in_page_median_ms: median(inPage),
  visitors: Number(visitors), questions: perQuestion,
}));
