import type { Ctx } from '../client';
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

/** Offline queue: persisted on failure, re-sent on load and on the `online` event. */
export function offline(c: Ctx, w: Window): void {
  if (!c._on('offline')) return;
  const tr = c._env._tr;
  const s = (tr._store = createStore(c._env._ls, c._env._now));
  if (c._off) return s.clear(); // opted out / DNT: keep nothing
  const again = () => tr._load(s.read());
  again();
  w.addEventListener('online', again);
}
