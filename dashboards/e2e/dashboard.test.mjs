// The dashboard in headless Chromium against a real `numu serve` with small demo data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, VIEWER, latinText, signIn, screenshot, startStack } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const PAGES = [['overview', '#/overview', '[data-testid=visitors-chart] canvas'], ['realtime', '#/realtime', '[data-testid=realtime]'],
  ['install', '#/install', '[data-testid=install-check]'], ['users', '#/admin/users', '[data-testid=users] td'],
  ['keys', '#/admin/keys', '[data-testid=keys] td'], ['settings', '#/admin/settings', '[data-testid=settings] input']];

const inEvents = (names) => [{ property: 'event', operator: 'in', value: names }];
const LEADS = ['signup', 'Signed Up'];
const PURCHASES = ['purchase', 'Order Completed'];

/** The cards as shown: raw values, and the previous period's visitors. */
const shownCards = (page) => page.evaluate(() => ({
  ...Object.fromEntries([...document.querySelectorAll('[data-metric]')]
    .map((card) => [card.dataset.metric, Number(card.querySelector('strong').dataset.raw)])),
  previousVisitors: document.querySelector('[data-metric=visitors] strong').dataset.previous,
}));

/** The overview's questions for `range`, asked of the query API with a secret key. */
async function apiAnswers(range) {
  const web = await stack.query({ kind: 'web_analytics', date_range: range, interval: 'day', compare: true, limit: 5 });
  const trends = await stack.query({ kind: 'trends', date_range: range, interval: 'day', compare: true, series: [
    { math: 'unique_people', filters: inEvents(LEADS), label: 'leads' },
    { math: 'unique_people', filters: inEvents(PURCHASES), label: 'buyers' },
    { math: 'sum', property: 'revenue', filters: inEvents(PURCHASES), label: 'revenue' }] });
  return { web, trends, total: (label) => trends.series.find((s) => s.label === label).total };
}

test('signing in shows the overview with the same numbers as the query API', async () => {
  const page = await signIn(stack, ADMIN);
  await page.waitForSelector('[data-testid=visitors-chart] canvas', { timeout: 60_000 });
  const shown = await shownCards(page);
  const { web, total } = await apiAnswers({ from: '-7d' });
  const visitors = web.metrics.visitors.value;
  assert.ok(visitors > 0, 'the demo data has visitors');
  assert.equal(shown.visitors, visitors);
  assert.equal(shown.leads, total('leads'));
  assert.ok(shown.leads > 0, 'the demo has leads');
  assert.ok(Math.abs(shown.revenue - total('revenue')) < 1e-6, `${shown.revenue} vs ${total('revenue')}`);
  assert.ok(Math.abs(shown.conversion - total('buyers') / visitors) < 1e-9);
  // The visible card text is the formatted number.
  const text = await page.textContent('[data-metric=visitors] strong');
  assert.equal(text, new Intl.NumberFormat('en-US').format(visitors));
  // Funnel and channels are drawn.
  assert.ok(await page.locator('[data-testid=funnel] .step').count() >= 3);
  await page.context().close();
});

test('a custom date range shows the query API numbers for that range and the period before it', async () => {
  const page = await signIn(stack, ADMIN);
  await page.waitForSelector('[data-testid=visitors-chart][data-drawn] canvas', { timeout: 60_000 });
  const day = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  const [from, to] = [day(1), day(1)]; // yesterday: the demo's 3 days have data before it too
  await page.selectOption('[data-testid=range]', 'custom');
  await page.fill('[data-testid=custom-range] input[name=from]', from);
  await page.fill('[data-testid=custom-range] input[name=to]', to);
  const funnelAsked = page.waitForResponse((r) => r.url().endsWith('/query') && r.request().postDataJSON()?.kind === 'funnel'
    && r.request().postDataJSON()?.date_range?.to === to, { timeout: 60_000 });
  await page.click('[data-testid=custom-range] button[type=submit]');
  const asked = (await funnelAsked).request().postDataJSON().date_range;
  assert.deepEqual(asked, { from, to });
  await page.waitForSelector('[data-testid=visitors-chart][data-drawn] canvas', { timeout: 60_000 });
  const shown = await shownCards(page);
  const { web, total } = await apiAnswers({ from, to });
  // The range is the whole day; the comparison is the day before.
  assert.equal(web.from_ms, Date.parse(`${from}T00:00:00Z`));
  assert.equal(web.to_ms, Date.parse(`${to}T00:00:00Z`) + 86_400_000);
  assert.deepEqual(web.timeseries.buckets, [from]);
  assert.deepEqual(web.previous_timeseries.buckets, [day(2)]);
  assert.ok(web.metrics.visitors.previous > 0, 'the day before has visitors');
  const visitors = web.metrics.visitors.value;
  assert.ok(visitors > 0, 'the demo has visitors in the custom range');
  assert.equal(shown.visitors, visitors);
  assert.equal(shown.previousVisitors, String(web.metrics.visitors.previous));
  assert.equal(shown.leads, total('leads'));
  assert.ok(Math.abs(shown.revenue - total('revenue')) < 1e-6, `${shown.revenue} vs ${total('revenue')}`);
  assert.ok(Math.abs(shown.conversion - total('buyers') / visitors) < 1e-9);
  const week = (await apiAnswers({ from: '-7d' })).web.metrics.visitors;
  assert.notDeepEqual([visitors, web.metrics.visitors.previous], [week.value, week.previous], 'the custom range differs from the preset');
  // The choice survives a reload (this tab), and the picker is translated.
  await page.reload();
  await page.waitForSelector('[data-testid=visitors-chart][data-drawn] canvas', { timeout: 60_000 });
  assert.equal(await page.inputValue('[data-testid=custom-range] input[name=from]'), from);
  assert.equal((await shownCards(page)).visitors, visitors);
  await page.click('[data-testid=lang]');
  await page.waitForFunction(() => document.dir === 'rtl');
  assert.deepEqual(await latinText(page), [], 'custom range: English left in Arabic');
  await screenshot(page, 'overview-custom-range-ar');
  // A start after the end is refused before asking.
  await page.fill('[data-testid=custom-range] input[name=from]', day(0));
  await page.fill('[data-testid=custom-range] input[name=to]', day(1));
  assert.equal(await page.isDisabled('[data-testid=custom-range] button[type=submit]'), true);
  await page.waitForSelector('[data-testid=custom-range] [role=alert]');
  await page.context().close();
});

test('every page in English and Arabic: RTL, no English left, screenshots not blank', async () => {
  for (const lang of ['en', 'ar']) {
    const page = await signIn(stack, ADMIN, lang);
    for (const [name, hash, ready] of PAGES) {
      await page.goto(`${stack.base}/${hash}`);
      await page.waitForSelector(ready, { timeout: 60_000 });
      await page.waitForTimeout(300);
      const { bytes, colours } = await screenshot(page, `${name}-${lang}`);
      assert.ok(bytes > 10_000 && colours > 8, `${name}-${lang}: ${bytes} bytes, ${colours} colours`);
      if (lang === 'ar') {
        const state = await page.evaluate(() => ({ dir: document.dir, lang: document.documentElement.lang }));
        assert.deepEqual(state, { dir: 'rtl', lang: 'ar' });
        const latin = await latinText(page);
        assert.deepEqual(latin, [], `${name}: English left in Arabic`);
      }
    }
    await page.context().close();
  }
});

test('the language is remembered and switchable', async () => {
  const page = await signIn(stack, ADMIN);
  assert.equal(await page.evaluate(() => document.dir), 'ltr');
  await page.click('[data-testid=lang]');
  await page.waitForFunction(() => document.dir === 'rtl', null, { timeout: 5_000 });
  await page.reload();
  await page.waitForSelector('nav');
  await page.waitForFunction(() => document.querySelector('nav a')?.textContent === 'نظرة عامة');
  assert.equal(await page.evaluate(() => [document.dir, localStorage.getItem('numu.lang')].join()), 'rtl,ar');
  assert.equal(await page.textContent('nav a'), 'نظرة عامة');
  await page.context().close();
});

test('a viewer cannot open admin pages or call admin APIs', async () => {
  const page = await signIn(stack, VIEWER);
  for (const hash of ['#/admin/users', '#/admin/keys', '#/admin/settings']) {
    await page.goto(`${stack.base}/${hash}`);
    await page.waitForSelector('[data-testid=not-allowed]');
  }
  await screenshot(page, 'viewer-not-allowed-en');
  const statuses = await page.evaluate(async (id) => {
    const me = await (await fetch('/api/auth/me')).json();
    const h = { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token };
    const call = async (method, path, body) => (await fetch(path, { method, headers: h, body: body && JSON.stringify(body) })).status;
    return [
      await call('GET', `/api/projects/${id}/admin/users`),
      await call('POST', `/api/projects/${id}/admin/users`, { email: 'x@example.com', password: 'long-enough', role: 'admin' }),
      await call('GET', `/api/projects/${id}/admin/keys`),
      await call('POST', `/api/projects/${id}/admin/keys`, { name: 'x', scopes: ['admin'] }),
      await call('PUT', `/api/projects/${id}/admin/settings`, { name: 'x' }),
      // The viewer may read: the query API accepts the session (with the CSRF token).
      await call('POST', `/api/projects/${id}/query`, { kind: 'web_analytics', date_range: { from: '-7d' } }),
      // Without the CSRF token a cookie-authenticated POST is refused.
      (await fetch(`/api/projects/${id}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"web_analytics","date_range":{"from":"-7d"}}' })).status,
      // The realtime API accepts the session too.
      (await fetch(`/api/projects/${id}/realtime`)).status,
    ];
  }, stack.projectId);
  assert.deepEqual(statuses, [403, 403, 403, 403, 403, 200, 403, 200]);
  await page.context().close();
});

test('an admin creates a key (shown once) and revokes it', async () => {
  const page = await signIn(stack, ADMIN);
  await page.goto(`${stack.base}/#/admin/keys`);
  await page.fill('[data-testid=keys] input[name=name]', 'reporting');
  await page.click('[data-testid=keys] button[type=submit]');
  const secret = await page.textContent('[data-testid=new-secret]');
  assert.match(secret, /^nsk_/);
  const ok = await fetch(`${stack.base}/api/projects/${stack.projectId}/realtime`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(ok.status, 200);
  await page.locator('tr', { hasText: 'reporting' }).locator('button').click();
  await page.locator('tr', { hasText: 'reporting' }).locator('td', { hasText: 'Revoked' }).waitFor();
  const gone = await fetch(`${stack.base}/api/projects/${stack.projectId}/realtime`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(gone.status, 401);
  await page.context().close();
});
