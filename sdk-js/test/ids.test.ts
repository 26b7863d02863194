import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ids, K_ID, K_SESSION, K_USER, SESSION_IDLE } from '../src/features/ids';
import { K_OPTOUT, type Api } from '../src/client';
import { MemStorage, setupClient } from './helpers';

function setup(o: { attrs?: Record<string, string>; ls?: MemStorage; ss?: MemStorage; dnt?: boolean } = {}) {
  const ls = o.ls || new MemStorage();
  const ss = o.ss || new MemStorage();
  const s = setupClient({ attrs: o.attrs, ls, dnt: o.dnt });
  ids(s.c, { sessionStorage: ss } as unknown as Window);
  // the full bundle's API: identify, alias, group, reset, consent are defined
  return { ...s, api: s.api as Required<Api>, ls, ss };
}

test('without consent: no anonymous id, no session id, nothing stored', async () => {
  const { api, clock, sent, ls, ss } = setup();
  api.page();
  api.track('x');
  await clock.advance(1000);
  for (const e of sent()) assert.ok(!('a' in e) && !('s' in e));
  assert.deepEqual(ls.keys(), []);
  assert.deepEqual(ss.keys(), []);
});

test('consent(true): persistent anonymous id and a session id on every event', async () => {
  const { api, clock, sent, ls, ss } = setup();
  api.track('before');
  api.consent(true);
  api.track('after1');
  api.page();
  await clock.advance(1000);
  const [before, a1, p] = sent();
  assert.ok(!('a' in before), 'events before consent carry no id');
  assert.ok(a1.a && a1.a.length >= 16);
  assert.equal(p.a, a1.a);
  assert.equal(ls.getItem(K_ID), a1.a);
  assert.ok(a1.s && a1.s.length >= 16);
  assert.equal(p.s, a1.s, 'same session');
  assert.ok(ss.getItem(K_SESSION)!.startsWith(a1.s + '.'));

  // next page load in the same tab: same anonymous id and session
  const next = setup({ ls, ss });
  next.api.track('later');
  await next.clock.advance(1000);
  assert.equal(next.sent()[0].a, a1.a);
  assert.equal(next.sent()[0].s, a1.s);
});

test('session id is renewed after 30 minutes without events', async () => {
  const { api, clock, sent } = setup({ attrs: { consent: 'true' } });
  api.track('a');
  await clock.advance(SESSION_IDLE - 1000);
  api.track('b'); // within 30 min of the last event: same session
  await clock.advance(SESSION_IDLE - 1);
  api.track('c'); // still within 30 min of "b"
  await clock.advance(SESSION_IDLE + 1);
  api.track('d'); // idle for > 30 min: new session
  await clock.advance(1000);
  const [a, b, c, d] = sent();
  assert.equal(a.s, b.s);
  assert.equal(b.s, c.s);
  assert.notEqual(c.s, d.s);
  assert.equal(a.a, d.a, 'anonymous id is kept');
});

test('data-consent="true" grants consent at load; "false" revokes and clears', async () => {
  const ls = new MemStorage();
  const ss = new MemStorage();
  const g = setup({ attrs: { consent: 'true' }, ls, ss });
  g.api.identify('user-1');
  await g.clock.advance(1000);
  assert.ok(g.sent()[0].a);
  assert.equal(ls.getItem(K_USER), 'user-1');

  const r = setup({ attrs: { consent: 'false' }, ls, ss });
  r.api.track('x');
  await r.clock.advance(1000);
  const e = r.sent()[0];
  assert.ok(!('a' in e) && !('s' in e) && !('u' in e));
  assert.deepEqual(ls.keys(), []);
  assert.deepEqual(ss.keys(), []);
});

test('consent(false) forgets every identifier', async () => {
  const { api, clock, sent, ls, ss } = setup({ attrs: { consent: 'true' } });
  api.identify('u1');
  api.consent(false);
  api.track('x');
  await clock.advance(1000);
  const e = sent()[1];
  assert.ok(!('a' in e) && !('s' in e));
  assert.deepEqual(ls.keys(), []);
  assert.deepEqual(ss.keys(), []);
});

test('identify: user id on later events; stored only with consent', async () => {
  const { api, clock, sent, ls } = setup();
  api.identify(42 as unknown as string, { plan: 'pro' });
  api.track('x');
  await clock.advance(1000);
  const [id, t] = sent();
  assert.equal(id.t, 'identify');
  assert.equal(id.u, '42');
  assert.deepEqual(id.tr, { plan: 'pro' });
  assert.equal(t.u, '42');
  assert.deepEqual(ls.keys(), [], 'no consent: user id kept in memory only');
  api.consent(true);
  assert.equal(ls.getItem(K_USER), '42');
});

test('alias and group', async () => {
  const { api, clock, sent } = setup({ attrs: { consent: 'true' } });
  api.alias('new-id', 'old-id');
  api.alias('newer'); // previous id defaults to the current user id
  api.group('acme', { seats: 5 });
  api.group('');
  await clock.advance(1000);
  const [a1, a2, g] = sent();
  assert.deepEqual([a1.t, a1.u, a1.pid], ['alias', 'new-id', 'old-id']);
  assert.deepEqual([a2.u, a2.pid], ['newer', 'new-id']);
  assert.deepEqual([g.t, g.g, g.tr], ['group', 'acme', { seats: 5 }]);
  assert.equal(sent().length, 3);
});

test('reset: forgets the user, new anonymous and session id', async () => {
  const { api, clock, sent, ls } = setup({ attrs: { consent: 'true' } });
  api.identify('u1');
  api.track('x');
  api.reset();
  api.track('y');
  await clock.advance(1000);
  const [, x, y] = sent();
  assert.equal(x.u, 'u1');
  assert.ok(!('u' in y));
  assert.notEqual(x.a, y.a);
  assert.notEqual(x.s, y.s);
  assert.equal(ls.getItem(K_ID), y.a);
  assert.equal(ls.getItem(K_USER), null);
});

test('opt-out clears identifiers; consent is refused while opted out', async () => {
  const { api, clock, sent, ls, ss } = setup({ attrs: { consent: 'true' } });
  api.track('x');
  api.optOut();
  api.consent(true);
  await clock.advance(1000);
  assert.equal(sent().length, 0);
  assert.deepEqual(ls.keys(), [K_OPTOUT]);
  assert.deepEqual(ss.keys(), []);
});

test('Do-Not-Track honoured: data-consent="true" is ignored, no ids stored', async () => {
  const { api, clock, sent, ls } = setup({ attrs: { consent: 'true' }, dnt: true });
  api.track('x');
  await clock.advance(1000);
  assert.equal(sent().length, 0);
  assert.deepEqual(ls.keys(), []);
});
