import type { Ctx } from '../client';
import { retryable } from '../transport';
import type { Ev, OfflineStore, StorageLike } from '../types';
import { sget, sset } from '../util';

export const K_QUEUE = 'numu_q';
export const MAX_EVENTS = 500;
export const MAX_AGE = 6048e5; // 7 days

/**
 * Undelivered events in localStorage (`numu_q`), bounded by count (oldest
 * dropped first) and age (by client timestamp `ts`).
 */
export function createStore(ls: StorageLike | undefined, now: () => number, max = MAX_EVENTS, age = MAX_AGE): OfflineStore {
  /** apply the bounds: drop too old, keep the newest `max` (in ts order) */
  const bound = (v: Ev[]) =>
    v
      .filter((e) => e && e.id && e.ts > now() - age)
      .sort((x, y) => x.ts - y.ts)
      .slice(-max);
  const read = (): Ev[] => {
    try {
      const v = JSON.parse(sget(ls, K_QUEUE) || '[]');
      return Array.isArray(v) ? bound(v) : [];
    } catch (_) {
      return [];
    }
  };
  const write = (v: Ev[]) => sset(ls, K_QUEUE, v.length ? JSON.stringify(v) : null);
  const without = (evs: Ev[]) => {
    const ids: Record<string, 1> = {};
    evs.forEach((e) => (ids[e.id] = 1));
    return read().filter((e) => !ids[e.id]);
  };
  return {
    read,
    add(evs) {
      // merge by id (a retried event replaces its older copy), then re-apply the bounds
      write(bound(without(evs).concat(evs)));
    },
    remove(evs) {
      if (sget(ls, K_QUEUE)) write(without(evs));
    },
    clear: () => write([]),
  };
}

/**
 * Offline queue: every request's events are remembered when it fails with a
 * retryable error (network, 429, 5xx) and forgotten once it got a final answer;
 * events still queued when the page is left during a backoff are remembered too.
 * Stored events are merged into the queue and sent on the next load and on `online`.
 */
export function offline(c: Ctx, w: Window, d: Document): void {
  if (!c._on('offline')) return;
  const env = c._env;
  const tr = env._tr;
  const o = tr._o;
  const s = createStore(env._ls, env._now);
  if (c._off) return s.clear(); // opted out / DNT: keep nothing
  const optOut = c._api.optOut;
  c._def('optOut', () => {
    optOut();
    s.clear();
  });

  const fetch = o._fetch!;
  const beacon = o._beacon!;
  const keep = (body: string, yes: unknown) => {
    const evs: Ev[] = JSON.parse(body);
    yes ? s.add(evs) : s.remove(evs);
  };
  o._fetch = (url, init) =>
    fetch(url, init).then(
      (r) => {
        keep(init.body, retryable(r.status));
        return r;
      },
      (e) => {
        keep(init.body, 1);
        throw e;
      },
    );
  o._beacon = (url, body) => {
    let ok: unknown;
    try {
      return (ok = beacon(url, body));
    } finally {
      keep(body, !ok);
    }
  };

  // merge stored events into the queue (skipping ids already there) and send them now
  const again = () => {
    s.read().forEach((e) => tr._q.some((x) => x.id == e.id) || tr._q.push(e));
    tr._flush(2);
  };
  // after the pre-load queue ran (it may opt out)
  o._setTimeout(again, 0);
  w.addEventListener('online', again);
  // these run after the client's own leave handlers (registered first), which
  // sent the queue unless backing off: what is left would be lost with the page
  const leave = () => tr._q.length && s.add(tr._q);
  d.addEventListener('visibilitychange', () => d.visibilityState == 'hidden' && leave());
  w.addEventListener('pagehide', leave);
}
