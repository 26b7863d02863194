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
const sorted = [...times].sort((a, b) => a - b);
console.log(JSON.stringify({ runs_ms: times, first_ms: times[0], median_ms: sorted[Math.floor(sorted.length / 2)], visitors: Number(visitors) }));
