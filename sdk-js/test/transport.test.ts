import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ev } from '../src/types';
import { ATTEMPTS } from '../src/transport';
import { setupTransport, URL_E } from './helpers';

let n = 0;
const ev = (extra: Partial<Ev> = {}): Ev => ({ t: 'track', e: 'x', id: 'id' + String(++n).padStart(16, '0'), ts: 1, ...extra });

test('batching: events wait for the interval, then go in one POST', async () => {
  const { tr, clock, calls } = setupTransport();
  tr._add(ev());
  tr._add(ev());
  tr._add(ev());
  await clock.advance(999);
  assert.equal(calls.length, 0, 'nothing before the 1 s interval');
  await clock.advance(1);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].body.length, 3);
  assert.equal(calls[0].url, URL_E);
  assert.equal(calls[0].method, 'POST');
  assert.equal(calls[0].keepalive, true);
});

test('batching: the 10th event flushes at once without waiting', async () => {
  const { tr, clock, calls } = setupTransport();
  for (let i = 0; i < 9; i++) tr._add(ev());
  await clock.advance(0);
  assert.equal(calls.length, 0);
  tr._add(ev());
  await clock.advance(0);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].body.length, 10);
  // the 11th starts a new batch, sent after the interval
  tr._add(ev());
  await clock.advance(0);
  assert.equal(calls.length, 1);
  await clock.advance(1000);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].body.length, 1);
});

test('batching: custom interval and batch size', async () => {
  const { tr, clock, calls } = setupTransport({ _interval: 5000, _max: 2 });
  tr._add(ev());
  await clock.advance(4999);
  assert.equal(calls.length, 0);
  await clock.advance(1);
  assert.equal(calls.length, 1);
  tr._add(ev());
  tr._add(ev());
  await clock.advance(0);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].body.length, 2);
});

test('body is a JSON array with sa (sent-at) set at send time on every event', async () => {
  const { tr, clock, calls } = setupTransport();
  tr._add(ev({ ts: 5 }));
  await clock.advance(1000);
  const sentAt = clock.t;
  assert.ok(Array.isArray(JSON.parse(calls[0].raw)));
  assert.equal(calls[0].body[0].sa, sentAt);
  assert.equal(calls[0].body[0].ts, 5);
});

test('retry: 503 then 204 delivers once, with the same message id', async () => {
  const { tr, clock, calls } = setupTransport({ replies: [503, 204] });
  const e = ev();
  tr._add(e);
  await clock.advance(1000);
  assert.equal(calls.length, 1);
  // backoff 1 s (random() = 1 → full delay) before the retry
  await clock.advance(999);
  assert.equal(calls.length, 1, 'no retry before the backoff');
  await clock.advance(1);
  assert.equal(calls.length, 2);
  assert.deepEqual(
    calls.map((c) => c.body.map((x) => x.id)),
    [[e.id], [e.id]],
  );
  assert.ok(calls[1].body[0].sa! > calls[0].body[0].sa!, 'sa is refreshed on the retry');
  await clock.advance(60_000);
  assert.equal(calls.length, 2, 'delivered exactly once after success');
  assert.deepEqual(clock.pending(), []);
});

test('retry: exponential backoff 1s, 2s, 4s ... on network errors and 5xx', async () => {
  const { tr, clock, calls } = setupTransport({ replies: ['network', 500, 502, 'network', 204] });
  tr._add(ev());
  await clock.advance(1000); // first attempt
  const times = [clock.t];
  for (let i = 0; i < 4; i++) {
    const before = calls.length;
    while (calls.length == before) await clock.advance(100);
    times.push(clock.t);
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.deepEqual(gaps, [1000, 2000, 4000, 8000]);
  await clock.advance(120_000);
  assert.equal(calls.length, 5);
});

test('retry: jitter scales the delay into [0.5, 1] of the backoff', async () => {
  const { tr, clock, calls } = setupTransport({ replies: [503], _random: () => 0 });
  tr._add(ev());
  await clock.advance(1000);
  await clock.advance(499);
  assert.equal(calls.length, 1);
  await clock.advance(1);
  assert.equal(calls.length, 2, 'random()=0 → half of the 1 s backoff');
});

test('retry: backoff is capped at 60 s', async () => {
  const replies = Array(9).fill(503);
  const { tr, clock, calls } = setupTransport({ replies });
  tr._add(ev());
  await clock.advance(1000);
  // 1+2+4+8+16+32 s, then 60 s (not 64 s)
  await clock.advance(63_000);
  assert.equal(calls.length, 7);
  await clock.advance(59_999);
  assert.equal(calls.length, 7);
  await clock.advance(1);
  assert.equal(calls.length, 8);
});

test('retry: 429 honours Retry-After (seconds) when longer than the backoff', async () => {
  const { tr, clock, calls } = setupTransport({ replies: [{ status: 429, retryAfter: '30' }, 204] });
  tr._add(ev());
  await clock.advance(1000);
  await clock.advance(29_999);
  assert.equal(calls.length, 1, 'waits for Retry-After, not the 1 s backoff');
  await clock.advance(1);
  assert.equal(calls.length, 2);
});

test('retry: a failed batch goes back to the front; later events wait for the backoff and follow it', async () => {
  const { tr, clock, calls } = setupTransport({ replies: [{ status: 503, retryAfter: '10' }] });
  const a = ev();
  tr._add(a);
  tr._flush(); // a in flight
  const b = ev();
  tr._add(b); // queued while a is in flight
  await clock.advance(0); // 503 for a
  const c = ev();
  tr._add(c);
  await clock.advance(5000);
  assert.equal(calls.length, 1, 'the batch interval does not bypass the backoff');
  await clock.advance(5000);
  assert.equal(calls.length, 2);
  assert.deepEqual(
    calls[1].body.map((x) => x.id),
    [a.id, b.id, c.id],
    'original order kept',
  );
});

test('4xx other than 429 is final: dropped, not retried', async () => {
  for (const status of [400, 401, 403, 404, 413]) {
    const { tr, clock, calls } = setupTransport({ replies: [status] });
    tr._add(ev());
    await clock.advance(1000);
    await clock.advance(600_000);
    assert.equal(calls.length, 1, `status ${status}`);
  }
});

test('200 with refused entries is final (not retried)', async () => {
  const { tr, clock, calls } = setupTransport({
    replies: [{ status: 200, body: '{"refused":[{"index":0,"reason":"bad"}]}' }],
  });
  tr._add(ev());
  await clock.advance(1000);
  await clock.advance(600_000);
  assert.equal(calls.length, 1);
});

test(`a batch is dropped from memory after ${ATTEMPTS} failed attempts`, async () => {
  const { tr, clock, calls } = setupTransport({ replies: Array(50).fill(503) });
  tr._add(ev());
  await clock.advance(3_600_000);
  assert.equal(calls.length, ATTEMPTS);
  // the next event starts fresh
  tr._add(ev());
  await clock.advance(3_600_000);
  assert.equal(calls.length, ATTEMPTS + ATTEMPTS);
  assert.equal(calls.at(-1)!.body.length, 1);
});

test('one request at a time: a full queue waits for the in-flight batch', async () => {
  const { tr, clock, calls } = setupTransport();
  for (let i = 0; i < 25; i++) tr._add(ev());
  assert.equal(calls.length, 1, 'first full batch goes at once');
  await clock.advance(0);
  assert.equal(calls.length, 2, 'the next full batch follows when the response arrives');
  await clock.advance(1000);
  assert.equal(calls.length, 3, 'a partial batch waits for the interval');
  assert.deepEqual(
    calls.map((c) => c.body.length),
    [10, 10, 5],
  );
});

test('urgent flush (page hidden) sends everything now, in batches, even with a request in flight', async () => {
  const bodies: number[] = [];
  const { tr } = setupTransport({
    // responses never arrive (page going away)
    _fetch: (_u, init) => (bodies.push(JSON.parse(init.body).length), new Promise(() => {})),
  });
  for (let i = 0; i < 10; i++) tr._add(ev());
  assert.deepEqual(bodies, [10]);
  for (let i = 0; i < 13; i++) tr._add(ev());
  assert.deepEqual(bodies, [10], 'normal flushes wait for the in-flight request');
  tr._flush(1);
  assert.deepEqual(bodies, [10, 10, 3], 'sent synchronously, without waiting for the interval');
  assert.equal(tr._q.length, 0);
});

test('urgent flush during a backoff does not send', async () => {
  const { tr, clock, calls } = setupTransport({ replies: [503] });
  tr._add(ev());
  await clock.advance(1000);
  tr._flush(1);
  assert.equal(calls.length, 1);
  tr._flush(2);
  assert.equal(calls.length, 2, 'mode 2 (online) ignores the backoff');
});

test('falls back to sendBeacon when fetch is missing or throws', async () => {
  const beacons: string[] = [];
  const { tr, clock } = setupTransport({
    _fetch: undefined,
    _beacon: (url, body) => (beacons.push(url + ' ' + body), true),
  });
  tr._add(ev());
  await clock.advance(1000);
  assert.equal(beacons.length, 1);
  assert.ok(beacons[0].startsWith(URL_E + ' ['));
  await clock.advance(600_000);
  assert.equal(beacons.length, 1, 'a queued beacon counts as delivered');

  const t2 = setupTransport({
    _fetch: () => {
      throw new TypeError('keepalive not supported');
    },
    _beacon: (_url, body) => (beacons.push(body), false),
  });
  t2.tr._add(ev());
  await t2.clock.advance(1000);
  assert.equal(beacons.length, 2);
  await t2.clock.advance(1000);
  assert.equal(beacons.length, 3, 'a refused beacon (false) is retried');
});

test('no fetch and no beacon: nothing throws, events are retried', async () => {
  const { tr, clock } = setupTransport({ _fetch: undefined, _beacon: undefined });
  tr._add(ev());
  await clock.advance(10_000);
  assert.ok(clock.pending().length == 1);
});

test('large bodies are sent without keepalive (64 KiB limit)', async () => {
  const { tr, clock, calls } = setupTransport();
  tr._add(ev({ p: { big: '字'.repeat(25_000) } })); // 75 KB in UTF-8
  await clock.advance(1000);
  tr._add(ev({ p: { small: '字'.repeat(1_000) } }));
  await clock.advance(1000);
  assert.deepEqual(
    calls.map((c) => c.keepalive),
    [false, true],
  );
});

test('stop (opt-out) drops the queue and ignores responses in flight', async () => {
  const { tr, clock, calls } = setupTransport({ replies: [503] });
  tr._add(ev());
  await clock.advance(1000);
  tr._stop(true);
  tr._add(ev());
  await clock.advance(600_000);
  assert.equal(calls.length, 1);
  assert.equal(tr._q.length, 0);
  tr._stop(false);
  tr._add(ev());
  await clock.advance(1000);
  assert.equal(calls.length, 2);
});
