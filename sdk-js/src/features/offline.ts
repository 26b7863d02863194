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
  const read = (): Ev[] => {
    let v: Ev[];
    try {
      v = JSON.parse(sget(ls, K_QUEUE) || '[]');
    } catch (_) {
      v = [];
    }
    const min = now() - age;
    return Array.isArray(v) ? v.filter((e) => e && e.id && e.ts > min).slice(-max) : [];
  };
  const write = (v: Ev[]) => sset(ls, K_QUEUE, v.length ? JSON.stringify(v) : null);
  return {
    read,
    add(evs) {
      const ids: Record<string, 1> = {};
      evs.forEach((e) => (ids[e.id] = 1));
      write(
        read()
          .filter((e) => !ids[e.id])
          .concat(evs)
          .sort((x, y) => x.ts - y.ts)
          .filter((e) => e.ts > now() - age)
          .slice(-max),
      );
    },
    remove(evs) {
      if (!sget(ls, K_QUEUE)) return;
      const ids: Record<string, 1> = {};
      evs.forEach((e) => (ids[e.id] = 1));
      write(read().filter((e) => !ids[e.id]));
    },
    clear: () => write([]),
  };
}

/** Offline queue: persisted on failure, re-sent on load and on the `online` event. */
export function offline(c: Ctx, w: Window): void {
  if (!c.on('offline')) return;
  const tr = c.env.tr;
  const s = (tr.store = createStore(c.env.ls, c.env.now));
  if (c.st.off) s.clear(); // opted out / DNT: keep nothing
  const again = () => {
    tr.load(s.read());
    tr.resume();
  };
  tr.load(s.read());
  w.addEventListener('online', again);
}
