import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ev } from '../src/types';
import { createStore, offline, K_QUEUE, MAX_AGE, MAX_EVENTS } from '../src/features/offline';
import { MemStorage, setupClient, type Reply } from './helpers';

const DAY = 864e5;
const mk = (i: number, ts: number): Ev => ({ t: 'track', e: 'e' + i, id: 'id-' + String(i).padStart(16, '0'), ts });

test('store: bounded in count, keeping the newest', () => {
  const ls = new MemStorage();
  const now = 1e12;
  const s = createStore(ls, () => now);
  s.add(Array.from({ length: 300 }, (_, i) => mk(i, now - 1000 + i)));
  s.add(Array.from({ length: 300 }, (_, i) => mk(300 + i, now - 500 + i)));
  const r = s.read();
  assert.equal(r.length, MAX_EVENTS);
  assert.equal(r[0].id, mk(100, 0).id, 'the 100 oldest were dropped');
  assert.equal(r.at(-1)!.id, mk(599, 0).id);
  assert.equal(JSON.parse(ls.getItem(K_QUEUE)!).length, MAX_EVENTS, 'bounded in storage too');
});

test('store: events older than 7 days are dropped', () => {
  const ls = new MemStorage();
  let now = 1e12;
  const s = createStore(ls, () => now);
  s.add([mk(1, now - 8 * DAY), mk(2, now - 6 * DAY), mk(3, now - 1)]);
  assert.deepEqual(
    s.read().map((e) => e.e),
    ['e2', 'e3'],
  );
  now += 2 * DAY; // e2 is now 8 days old
  assert.deepEqual(
    s.read().map((e) => e.e),
    ['e3'],
  );
  assert.equal(MAX_AGE, 7 * DAY);
});

test('store: merge by id, remove, clear, garbage tolerated', () => {
  const ls = new MemStorage();
  const s = createStore(ls, () => 1e12);
  const a = mk(1, 1e12 - 5);
  s.add([a, mk(2, 1e12 - 4)]);
  s.add([{ ...a, sa: 123 }]);
  assert.equal(s.read().length, 2, 'same id stored once');
  s.remove([a]);
  assert.deepEqual(
    s.read().map((e) => e.e),
    ['e2'],
  );
  s.clear();
  assert.equal(ls.getItem(K_QUEUE), null, 'nothing left in storage');
  ls.setItem(K_QUEUE, '{not json');
  assert.deepEqual(s.read(), []);
  ls.setItem(K_QUEUE, '{"a":1}');
  assert.deepEqual(s.read(), []);
});

/** Client with the offline feature, fake window/document event targets. */
function setup(o: { ls?: MemStorage; replies?: Reply[]; attrs?: Record<string, string> } = {}) {
  const ls = o.ls || new MemStorage();
  const s = setupClient({ ls, replies: o.replies, attrs: o.attrs });
  const w = new EventTarget();
  const d = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  // the client's own leave handler, registered before the features like boot does
  const leave = () => {
    s.c._lv.forEach((f) => f());
    s.tr._flush(1);
  };
  d.addEventListener('visibilitychange', () => d.visibilityState == 'hidden' && leave());
  w.addEventListener('pagehide', leave);
  offline(s.c, w as unknown as Window, d as unknown as Document);
  const stored = (): Ev[] => JSON.parse(ls.getItem(K_QUEUE) || '[]');
  // the stored queue is loaded right after boot (timer 0); let that happen first
  const loaded = () => s.clock.advance(0);
  const hide = () => {
    d.visibilityState = 'hidden';
    d.dispatchEvent(new Event('visibilitychange'));
  };
  return { ...s, ls, w, d, stored, hide, loaded };
}

test('offline: failed events are persisted, and flushed on the online event', async () => {
  const { api, clock, calls, w, stored, loaded } = setup({ replies: ['network', 'network', 'network'] });
  await loaded();
  api.track('lost');
  await clock.advance(1000);
  assert.equal(calls.length, 1);
  assert.deepEqual(
    stored().map((e) => e.e),
    ['lost'],
    'kept in localStorage after the network error',
  );
  w.dispatchEvent(new Event('online'));
  await clock.advance(0);
  assert.equal(calls.length, 2, 'sent at once on online, not after the backoff');
  assert.equal(calls[1].body[0].e, 'lost');
  w.dispatchEvent(new Event('online')); // fails again ("network"), still stored
  await clock.advance(0);
  assert.equal(stored().length, 1);
  w.dispatchEvent(new Event('online')); // 204
  await clock.advance(0);
  assert.deepEqual(stored(), [], 'forgotten once delivered');
  assert.deepEqual(
    calls.map((c) => c.body.map((e) => e.id)),
    Array(4).fill([calls[0].body[0].id]),
    'same message id every time',
  );
});

test('offline: persisted events are sent on the next page load', async () => {
  const ls = new MemStorage();
  const first = setup({ ls, replies: [503] });
  await first.loaded();
  first.api.track('a');
  first.api.track('b');
  await first.clock.advance(1000);
  assert.equal(first.stored().length, 2);
  const ids = first.calls[0].body.map((e) => e.id);

  // new page load (the old page is gone)
  const next = setup({ ls });
  next.api.page();
  await next.clock.advance(0);
  assert.equal(next.calls.length, 1);
  assert.deepEqual(
    next.calls[0].body.map((e) => e.t + (e.e || '')),
    ['page', 'tracka', 'trackb'],
  );
  assert.deepEqual(next.calls[0].body.slice(1).map((e) => e.id), ids, 'original ids for server-side dedupe');
  assert.deepEqual(next.stored(), []);
});

test('offline: 4xx responses are not kept', async () => {
  const { api, clock, stored, loaded } = setup({ replies: [400] });
  await loaded();
  api.track('bad');
  await clock.advance(1000);
  assert.deepEqual(stored(), []);
});

test('offline: events queued when the page is left during a backoff are persisted', async () => {
  const { api, clock, calls, stored, hide, loaded } = setup({ replies: [{ status: 503, retryAfter: '120' }] });
  await loaded();
  api.track('a');
  await clock.advance(1000);
  api.track('b'); // waits for the backoff
  hide();
  assert.equal(calls.length, 1, 'nothing sent during the backoff');
  assert.deepEqual(
    stored().map((e) => e.e),
    ['a', 'b'],
  );
});

test('offline: leaving normally sends with keepalive and persists nothing', async () => {
  const { api, calls, stored, hide } = setup();
  api.track('a');
  hide();
  assert.equal(calls.length, 1);
  assert.ok(calls[0].keepalive);
  assert.deepEqual(stored(), []);
});

test('offline: optOut clears the offline queue', async () => {
  const ls = new MemStorage();
  const { api, clock, stored, w, calls, loaded } = setup({ ls, replies: ['network'] });
  await loaded();
  api.track('a');
  await clock.advance(1000);
  assert.equal(stored().length, 1);
  api.optOut();
  assert.equal(ls.getItem(K_QUEUE), null);
  w.dispatchEvent(new Event('online'));
  await clock.advance(60_000);
  assert.equal(calls.length, 1);
});

test('offline: disabled with data-offline="false"', async () => {
  const { api, clock, stored } = setup({ replies: ['network'], attrs: { offline: 'false' } });
  api.track('a');
  await clock.advance(1000);
  assert.deepEqual(stored(), []);
});
