import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replay, K_OPTOUT } from '../src/client';
import { brokenStorage, MemStorage, setupClient } from './helpers';

test('pre-load queue (array stub) is replayed in order', async () => {
  const { api, clock, sent } = setupClient();
  const pre: unknown[] = [];
  pre.push(['track', 'first', { n: 1 }]);
  pre.push(['page']);
  pre.push(['track', 'second', { n: 2 }]);
  pre.push(['nonsense', 1]);
  pre.push(['track', 'third']);
  replay(api, pre);
  await clock.advance(1000);
  assert.deepEqual(
    sent().map((e) => e.t + ':' + (e.e || '')),
    ['track:first', 'page:', 'track:second', 'track:third'],
  );
  assert.deepEqual(sent()[0].p, { n: 1 });
});

test('pre-load queue (function stub with .q of arguments objects) is replayed in order', async () => {
  const { api, clock, sent } = setupClient();
  // the documented stub: window.numu = window.numu || function () { (numu.q = numu.q || []).push(arguments) }
  const stub: any = function (this: unknown) {
    // eslint-disable-next-line prefer-rest-params
    (stub.q = stub.q || []).push(arguments);
  };
  stub('track', 'a');
  stub('track', 'b', { x: 1 });
  stub('ready', () => stub.readyAt.push('ready'));
  stub.readyAt = [];
  stub('track', 'c');
  replay(api, stub);
  await clock.advance(1000);
  assert.deepEqual(
    sent().map((e) => e.e),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(stub.readyAt, ['ready']);
});

test('ready callbacks run in queue order, with the API', async () => {
  const { api } = setupClient();
  const order: string[] = [];
  replay(api, [
    ['ready', (a: any) => order.push('r1:' + typeof a.track)],
    ['track', 'x'],
    ['ready', () => order.push('r2')],
  ]);
  api.ready(() => order.push('r3'));
  assert.deepEqual(order, ['r1:function', 'r2', 'r3']);
});

test('the API is callable as a function and through push after load', async () => {
  const { api, clock, sent } = setupClient();
  api('track', 'via-call');
  api.push(['track', 'via-push']);
  api.track('direct');
  await clock.advance(1000);
  assert.deepEqual(
    sent().map((e) => e.e),
    ['via-call', 'via-push', 'direct'],
  );
});

test('page and track events carry the wire fields, empty ones omitted', async () => {
  const { api, clock, sent } = setupClient();
  api.page();
  api.page({ section: 'b' });
  api.track('signup', { plan: 'pro', n: 3, nested: { a: [1, 2] }, gone: undefined });
  await clock.advance(1000);
  const [p1, p2, t] = sent();
  assert.equal(p1.t, 'page');
  assert.equal(p1.ti, 'Title');
  assert.equal(p1.ref, 'https://ref.test/', 'referrer on the first page of the load');
  assert.equal(p2.ref, undefined, 'no referrer on later page views');
  assert.ok(!('ref' in p2));
  assert.deepEqual(p2.p, { section: 'b' });
  assert.ok(!('p' in p1), 'no empty props');
  assert.equal(t.t, 'track');
  assert.equal(t.e, 'signup');
  assert.deepEqual(t.p, { plan: 'pro', n: 3, nested: { a: [1, 2] } });
  assert.ok(!('ti' in t) && !('ref' in t), 'title / referrer only on page events');
  for (const e of [p1, p2, t]) {
    assert.equal(e.url, 'https://site.test/a?b=1');
    assert.equal(e.vw, 800);
    assert.equal(e.sh, 1080);
    assert.equal(e.lang, 'en-US');
    assert.equal(e.ts, clock.t - 1000);
    assert.ok(typeof e.id == 'string' && e.id.length >= 16);
    assert.ok(!('a' in e) && !('s' in e) && !('u' in e), 'cookieless by default: no ids');
  }
  assert.equal(new Set(sent().map((e) => e.id)).size, 3, 'unique message ids');
});

test('props are snapshotted at call time', async () => {
  const { api, clock, sent } = setupClient();
  const p = { step: 1 };
  api.track('x', p);
  p.step = 2;
  await clock.advance(1000);
  assert.deepEqual(sent()[0].p, { step: 1 });
});

test('bad input never throws into the page', async () => {
  const { api, clock, sent } = setupClient();
  const cyclic: any = { a: 1 };
  cyclic.self = cyclic;
  assert.doesNotThrow(() => api.track('cyclic', cyclic));
  assert.doesNotThrow(() => api.track(''));
  assert.doesNotThrow(() => (api as any).track());
  assert.doesNotThrow(() => api('length'));
  assert.doesNotThrow(() => api('prototype'));
  assert.doesNotThrow(() => api.push(null as any));
  assert.doesNotThrow(() =>
    api.ready(() => {
      throw new Error('host callback bug');
    }),
  );
  api.track('ok');
  await clock.advance(1000);
  assert.deepEqual(
    sent().map((e) => e.e),
    ['ok'],
  );
});

test('optOut stops all sends, drops the queue and is remembered', async () => {
  const ls = new MemStorage();
  const { api, clock, calls } = setupClient({ ls });
  api.track('before');
  api.optOut();
  api.track('after');
  api.page();
  await api.flush();
  await clock.advance(60_000);
  assert.equal(calls.length, 0, 'queued event dropped, nothing sent');
  assert.equal(ls.getItem(K_OPTOUT), '1');

  // next page load: still opted out
  const again = setupClient({ ls });
  again.api.page();
  again.api.track('x');
  await again.clock.advance(60_000);
  assert.equal(again.calls.length, 0);

  // optIn resumes and forgets the flag
  again.api.optIn();
  again.api.track('back');
  await again.clock.advance(1000);
  assert.deepEqual(
    again.sent().map((e) => e.e),
    ['back'],
  );
  assert.equal(ls.getItem(K_OPTOUT), null);
});

test('Do-Not-Track / GPC (when honoured) blocks everything, even optIn', async () => {
  const { api, clock, calls, ls } = setupClient({ dnt: true });
  api.page();
  api.optIn();
  api.track('x');
  await clock.advance(60_000);
  assert.equal(calls.length, 0);
  assert.deepEqual((ls as MemStorage).keys(), []);
});

test('cookieless by default: nothing is written to storage', async () => {
  const ls = new MemStorage();
  const { api, clock } = setupClient({ ls });
  api.page();
  api.track('x', { a: 1 });
  await clock.advance(1000);
  assert.deepEqual(ls.keys(), []);
});

test('blocked storage does not break tracking', async () => {
  const { api, clock, sent } = setupClient({ ls: brokenStorage });
  api.page();
  api.optOut(); // cannot be remembered, but still stops traffic
  api.track('x');
  await clock.advance(1000);
  assert.equal(sent().length, 0);
  const b = setupClient({ ls: brokenStorage });
  b.api.track('y');
  await b.clock.advance(1000);
  assert.deepEqual(
    b.sent().map((e) => e.e),
    ['y'],
  );
});

test('flush() sends now and resolves when the response arrived', async () => {
  const { api, calls } = setupClient();
  api.track('x');
  await api.flush();
  assert.equal(calls.length, 1);
});
