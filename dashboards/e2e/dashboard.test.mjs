// The dashboard in headless Chromium against a real `numu serve` with small demo data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, VIEWER, signIn, screenshot, startStack } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const PAGES = [['overview', '#/overview', '[data-testid=visitors-chart] canvas'], ['realtime', '#/realtime', '[data-testid=realtime]'],
  ['install', '#/install', '[data-testid=install-check]'], ['users', '#/admin/users', '[data-testid=users] td'],
  ['keys', '#/admin/keys', '[data-testid=keys] td'], ['settings', '#/admin/settings', '[data-testid=settings] input']];

const inEvents = (names) => [{ property: 'event', operator: 'in', value: names }];
const LEADS = ['signup', 'Signed Up'];
const PURCHASES = ['purchase', 'Order Completed'];

test('signing in shows the overview with the same numbers as the query API', async () => {
  const page = await signIn(stack, ADMIN);
  await page.waitForSelector('[data-testid=visitors-chart] canvas', { timeout: 60_000 });
  const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-metric]')]
    .map((card) => [card.dataset.metric, Number(card.querySelector('strong').dataset.raw)])));
  const range = { from: '-7d' };
  const web = await stack.query({ kind: 'web_analytics', date_range: range, interval: 'day', compare: true, limit: 5 });
  const trends = await stack.query({ kind: 'trends', date_range: range, interval: 'day', compare: true, series: [
    { math: 'unique_people', filters: inEvents(LEADS), label: 'leads' },
    { math: 'unique_people', filters: inEvents(PURCHASES), label: 'buyers' },
    { math: 'sum', property: 'revenue', filters: inEvents(PURCHASES), label: 'revenue' }] });
  const total = (label) => trends.series.find((s) => s.label === label).total;
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
        // Visible text outside data values (emails, URLs, keys, page paths, event names,
        // channel and campaign values, and the `numu demo` command) has no Latin letter.
        const latin = await page.evaluate(() => {
          const found = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (!el || el.closest('[data-value], script, style')) continue;
            if (el.closest('select') && !el.closest('option')) continue;
            if (el.closest('option') && el.closest('select')?.getAttribute('aria-label') != null) continue; // project names
            if (!el.checkVisibility?.() && !el.closest('option')) continue;
            if (/[A-Za-z]/.test(node.textContent)) found.push(node.textContent.trim());
          }
          for (const input of document.querySelectorAll('input[placeholder]')) if (/[A-Za-z]/.test(input.placeholder)) found.push(input.placeholder);
          return found;
        });
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
