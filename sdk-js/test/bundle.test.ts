// End-to-end tests of the built, minified bundles in a fake browser (node:vm).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEl, makeBrowser } from './browser-fake';
import { MemStorage } from './helpers';

let out = '';
let FULL = '';
let CORE = '';
before(() => {
  out = mkdtempSync(join(tmpdir(), 'numu-bundle-'));
  const r = spawnSync(process.execPath, ['build.mjs'], {
    cwd: process.cwd(),
    env: { ...process.env, NUMU_OUTDIR: out },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  FULL = readFileSync(join(out, 'numu.js'), 'utf8');
  CORE = readFileSync(join(out, 'numu.core.js'), 'utf8');
});
after(() => rmSync(out, { recursive: true, force: true }));

const STUB = 'window.numu = window.numu || function () { (numu.q = numu.q || []).push(arguments) };';

test('full: endpoint from the script origin, stub calls replayed before the first page view', async () => {
  const b = makeBrowser({
    attrs: { 'data-key': 'KEY 1' },
    before: STUB + "numu('track', 'early', {n: 1}); numu('consent', true); numu('identify', 'u-7', {plan: 'pro'});",
  });
  b.load(FULL);
  assert.equal(typeof b.w.numu, 'function');
  assert.equal(typeof b.w.numu.track, 'function');
  await b.clock.advance(1000);
  assert.equal(b.calls.length, 1);
  assert.equal(b.calls[0].url, 'https://numu.example.com/e?k=KEY%201');
  assert.equal(b.calls[0].method, 'POST');
  const [early, identify, page] = b.calls[0].body;
  assert.deepEqual([early.t, early.e, early.p], ['track', 'early', { n: 1 }]);
  assert.ok(!early.a, 'queued before consent: no anonymous id');
  assert.deepEqual([identify.t, identify.u, identify.tr], ['identify', 'u-7', { plan: 'pro' }]);
  assert.ok(identify.a && identify.s, 'after consent: anonymous + session id');
  assert.equal(page.t, 'page');
  assert.equal(page.url, 'https://site.test/start?x=1');
  assert.equal(page.ref, 'https://google.test/');
  assert.equal(page.ti, 'Start page');
  assert.deepEqual([page.vw, page.vh, page.sw, page.sh, page.lang], [1280, 800, 1440, 900, 'de-DE']);
  assert.equal(page.u, 'u-7');
  assert.equal(page.a, identify.a);
  assert.equal(b.ls.getItem('numu_id'), page.a);
  assert.ok(page.sa! >= page.ts);
});

test('full: array stub works too, and data-api overrides the endpoint', async () => {
  const b = makeBrowser({
    attrs: { 'data-key': 'K', 'data-api': 'https://collect.example.org/' },
    before: "window.numu = window.numu || []; numu.push(['track', 'a']); numu.push(['track', 'b']);",
  });
  b.load(FULL);
  b.w.numu.push(['track', 'c']);
  await b.clock.advance(1000);
  assert.equal(b.calls[0].url, 'https://collect.example.org/e?k=K');
  assert.deepEqual(
    b.sent().map((e) => e.e || e.t),
    ['a', 'b', 'page', 'c'],
  );
});

test('full: cookieless by default, nothing stored', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K' } });
  b.load(FULL);
  b.w.numu.track('x');
  await b.clock.advance(1000);
  for (const e of b.sent()) assert.ok(!e.a && !e.s && !e.u);
  assert.deepEqual(b.ls.keys(), []);
  assert.deepEqual(b.ss.keys(), []);
});

test('full: SPA navigation sends the previous page scroll depth, then a page view', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K' } });
  b.load(FULL);
  b.w.scrollY = 1200;
  b.w.fire('scroll');
  b.w.scrollY = 400;
  b.w.fire('scroll');
  b.w.history.pushState({}, '', '/next');
  b.w.history.replaceState({}, '', '/next'); // same URL: no page view
  b.go('/next#section');
  b.w.fire('hashchange');
  await b.clock.advance(1000);
  const evs = b.sent();
  assert.deepEqual(
    evs.map((e) => e.e || e.t),
    ['page', '$scroll', 'page', 'page'],
  );
  const [first, scroll, second, third] = evs;
  assert.deepEqual(scroll.p, { depth: 50, px: 2000 }, 'max depth, not the last position');
  assert.equal(scroll.url, first.url, 'scroll depth belongs to the previous page');
  assert.equal(second.url, 'https://site.test/next');
  assert.ok(!second.ref, 'referrer only on the first page view');
  assert.equal(third.url, 'https://site.test/next#section');
});

test('full: heatmap click, outbound link, download, rage click, form submit', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K' } });
  b.load(FULL);
  const body = b.d.body as FakeEl;
  const nav = body.append(new FakeEl('nav', { class: 'top bar x' }));
  nav.style.position = 'sticky';
  const out = nav.append(new FakeEl('a', { href: 'https://other.test/x' }, ' Partner \n site '));
  const span = out.append(new FakeEl('span', {}, 'Partner'));
  const dl = body.append(new FakeEl('a', { href: '/files/report.pdf', id: 'dl' }, 'Report'));
  const form = body.append(new FakeEl('form', { id: 'signup' }));
  const click = (target: FakeEl, x: number, y: number, t: number) =>
    b.d.fire('click', { target, pageX: x + 0.4, pageY: y, timeStamp: t, detail: 1 });

  click(span, 10, 20, 100); // inside the outbound link
  // keyboard activation (Enter): no position, so no heatmap click; the download still counts
  b.d.fire('click', { target: dl, pageX: 0, pageY: 0, timeStamp: 200, detail: 0 });
  click(dl, 500, 900, 5000);
  b.d.fire('submit', { target: form });
  await b.clock.advance(1000);
  const evs = b.sent().filter((e) => e.t == 'track');
  assert.deepEqual(
    evs.map((e) => e.e),
    ['$click', '$outbound', '$download', '$click', '$download', '$submit'],
  );
  assert.deepEqual(evs[0].p, {
    x: 10,
    y: 20,
    vw: 1280,
    vh: 800,
    fixed: true,
    sel: 'body>nav.top.bar>a',
    text: 'Partner site',
  });
  assert.deepEqual(evs[1].p, { href: 'https://other.test/x' });
  assert.deepEqual(evs[2].p, { href: 'https://site.test/files/report.pdf' });
  assert.equal(evs[3].p!.fixed, false);
  assert.equal(evs[3].p!.sel, 'a#dl');
  assert.equal(evs[3].p!.text, 'Report');
  assert.deepEqual(evs[5].p, { sel: 'form#signup' });

  for (const t of [8000, 8200, 8400, 8600]) click(body, 300, 300, t);
  await b.clock.advance(1000);
  const rage = b.sent().filter((e) => e.e == '$rageclick');
  assert.equal(rage.length, 1);
  assert.deepEqual(rage[0].p, { x: 300, y: 300, sel: 'body' });
});

test('full: elements inside [data-numu-ignore] are not recorded', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K', 'data-auto-pageview': 'false' } });
  b.load(FULL);
  const box = (b.d.body as FakeEl).append(new FakeEl('div', { 'data-numu-ignore': '' }));
  const a = box.append(new FakeEl('a', { href: 'https://other.test/' }, 'secret'));
  const form = box.append(new FakeEl('form'));
  b.d.fire('click', { target: a, pageX: 1, pageY: 1, timeStamp: 1, detail: 1 });
  b.d.fire('submit', { target: form });
  await b.clock.advance(1000);
  assert.deepEqual(b.sent(), []);
});

test('full: data-auto-* switches turn autocapture off', async () => {
  const b = makeBrowser({
    attrs: {
      'data-key': 'K',
      'data-auto-clicks': 'false',
      'data-auto-outbound': 'false',
      'data-auto-pageview': 'false',
      'data-auto-forms': 'false',
    },
  });
  b.load(FULL);
  const a = (b.d.body as FakeEl).append(new FakeEl('a', { href: 'https://other.test/' }));
  b.d.fire('click', { target: a, pageX: 1, pageY: 1, timeStamp: 1, detail: 1 });
  b.d.fire('submit', { target: b.d.body });
  b.w.history.pushState({}, '', '/other');
  await b.clock.advance(1000);
  assert.deepEqual(b.sent(), []);
});

test('full: page hidden flushes at once with keepalive (scroll depth included)', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K' } });
  b.load(FULL);
  b.w.numu.track('x');
  b.d.visibilityState = 'hidden';
  b.d.fire('visibilitychange');
  assert.equal(b.calls.length, 1, 'no timer needed');
  assert.ok(b.calls[0].keepalive);
  assert.deepEqual(
    b.calls[0].body.map((e) => e.e || e.t),
    ['page', 'x', '$scroll'],
  );
  assert.deepEqual(b.calls[0].body[2].p, { depth: 20, px: 800 });
});

test('full: offline queue survives a reload', async () => {
  const ls = new MemStorage();
  const b = makeBrowser({ attrs: { 'data-key': 'K' }, ls, replies: ['network'] });
  b.load(FULL);
  await b.clock.advance(0); // stored queue loaded and flushed right after boot: the page view fails
  assert.equal(b.calls.length, 1);
  assert.equal(JSON.parse(ls.getItem('numu_q')!).length, 1);
  const b2 = makeBrowser({ attrs: { 'data-key': 'K' }, ls, href: 'https://site.test/two' });
  b2.load(FULL);
  await b2.clock.advance(0);
  assert.deepEqual(
    b2.sent().map((e) => e.url),
    ['https://site.test/two', 'https://site.test/start?x=1'],
  );
  assert.equal(ls.getItem('numu_q'), null);
});

test('full: optOut is remembered across loads; DNT honoured only when asked', async () => {
  const ls = new MemStorage();
  const b = makeBrowser({ attrs: { 'data-key': 'K' }, ls });
  b.load(FULL);
  b.w.numu.optOut();
  await b.clock.advance(5000);
  assert.equal(b.calls.length, 0);
  assert.equal(ls.getItem('numu_optout'), '1');
  const b2 = makeBrowser({ attrs: { 'data-key': 'K' }, ls });
  b2.load(FULL);
  await b2.clock.advance(5000);
  assert.equal(b2.calls.length, 0);

  const dnt = makeBrowser({ attrs: { 'data-key': 'K', 'data-respect-dnt': 'true' }, nav: { doNotTrack: '1' } });
  dnt.load(FULL);
  await dnt.clock.advance(5000);
  assert.equal(dnt.calls.length, 0);
  const gpc = makeBrowser({ attrs: { 'data-key': 'K', 'data-respect-dnt': 'true' }, nav: { globalPrivacyControl: true } });
  gpc.load(FULL);
  await gpc.clock.advance(5000);
  assert.equal(gpc.calls.length, 0);
  const ignored = makeBrowser({ attrs: { 'data-key': 'K' }, nav: { doNotTrack: '1' } });
  ignored.load(FULL);
  await ignored.clock.advance(5000);
  assert.equal(ignored.calls.length, 1);
});

test('no data-key: the script does nothing and does not throw; loading twice is harmless', async () => {
  const b = makeBrowser({ attrs: {} });
  assert.doesNotThrow(() => b.load(FULL));
  assert.equal(b.w.numu, undefined);
  const b2 = makeBrowser({ attrs: { 'data-key': 'K' } });
  b2.load(FULL);
  const api = b2.w.numu;
  b2.load(FULL);
  assert.equal(b2.w.numu, api);
  await b2.clock.advance(1000);
  assert.equal(b2.sent().length, 1, 'one page view');
});

test('no fetch: sendBeacon is used', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K' } });
  b.w.fetch = undefined;
  b.load(FULL);
  await b.clock.advance(1000);
  assert.equal(b.beacons.length, 1);
  assert.ok(b.beacons[0].startsWith('https://numu.example.com/e?k=K ['));
});

test('core: page views and custom events; full-only methods are ignored safely', async () => {
  const b = makeBrowser({
    attrs: { 'data-key': 'K' },
    before: STUB + "numu('identify', 'u1'); numu('track', 'early');",
  });
  b.load(CORE);
  const api = b.w.numu;
  assert.equal(typeof api.track, 'function');
  assert.equal(api.identify, undefined);
  api('consent', true);
  api.track('later', { k: 'v' });
  b.w.history.pushState({}, '', '/spa'); // no SPA tracking in core
  b.d.fire('click', { target: b.d.body, pageX: 1, pageY: 1, detail: 1 });
  await b.clock.advance(1000);
  assert.deepEqual(
    b.sent().map((e) => e.e || e.t),
    ['early', 'page', 'later'],
  );
  for (const e of b.sent()) assert.ok(!e.a && !e.s && !e.u);
  assert.deepEqual(b.ls.keys(), []);
  assert.ok(CORE.length < FULL.length / 2);
});

test('core: retries a 503 with the same id, optOut stops it', async () => {
  const b = makeBrowser({ attrs: { 'data-key': 'K' }, replies: [503] });
  b.load(CORE);
  await b.clock.advance(1000);
  await b.clock.advance(1000);
  assert.equal(b.calls.length, 2);
  assert.equal(b.calls[0].body[0].id, b.calls[1].body[0].id);
  b.w.numu.optOut();
  b.w.numu.track('x');
  await b.clock.advance(60_000);
  assert.equal(b.calls.length, 2);
});
