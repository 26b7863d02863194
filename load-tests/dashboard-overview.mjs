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
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
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
const times = [];
for (let i = 0; i < Number(runsText); i++) {
  const started = Date.now();
  await page.goto(`${base}/?run=${i}#/overview`);
  await page.waitForSelector('[data-testid=visitors-chart][data-drawn] canvas', { timeout: 120_000 });
  await page.waitForSelector('[data-testid=funnel] .step');
  times.push(Date.now() - started);
}
const visitors = await page.getAttribute('[data-metric=visitors] strong', 'data-raw');
await browser.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perQuestion = Object.fromEntries(Object.entries(questions).map(([k, xs]) => [k, { runs_ms: xs, median_ms: median(xs) }]));
console.log(JSON.stringify({ runs_ms: times, first_ms: times[0], median_ms: median(times), visitors: Number(visitors), questions: perQuestion }));
