import type { Ev, FetchLike, OfflineStore, Timers } from './types';

// Internal property names start with "_": the build shortens them (esbuild mangleProps).

export interface TransportOptions extends Timers {
  /** full collector URL, e.g. https://numu.example.com/e?k=KEY */
  _url: string;
  /** fetch; may be missing or throw synchronously, then `_beacon` is used */
  _fetch?: FetchLike;
  /** navigator.sendBeacon */
  _beacon?: (url: string, body: string) => boolean;
  _now(): number;
  _random(): number;
  /** batching interval in ms (default 1000) */
  _interval?: number;
  /** events per request; reaching it flushes at once (default 10) */
  _max?: number;
}

export interface Transport {
  /** queue one event; sent after `_interval` ms or once `_max` events wait */
  _add(ev: Ev): void;
  /**
   * Send now. Normal flushes send one batch at a time and honour backoff;
   * `urgent` (page hidden / unloading) sends everything at once, or, while
   * backing off, only persists the queue to the offline store.
   */
  _flush(urgent?: unknown): Promise<unknown>;
  /** true = opted out: drop everything in memory and in the offline store, stop sending */
  _stop(off: boolean): void;
  /** merge events (from the offline store) into the queue, skipping known ids; reset backoff; flush */
  _load(evs: Ev[]): void;
  /** offline persistence, installed by the full bundle */
  _store?: OfflineStore;
}

/** consecutive failed attempts after which a batch is dropped from memory (the offline store keeps it) */
export const ATTEMPTS = 10;

export function createTransport(o: TransportOptions): Transport {
  const interval = o._interval || 1e3;
  const max = o._max || 10;
  let q: Ev[] = [];
  let timer: unknown;
  let retryAt = 0;
  let fails = 0;
  let busy = 0;
  let stopped: unknown;

  const sched = (ms: number, now?: unknown) => {
    if (now && timer) o._clearTimeout(timer), (timer = 0);
    timer =
      timer ||
      o._setTimeout(() => {
        timer = 0;
        t._flush();
      }, ms);
  };

  const send = (b: Ev[]): Promise<void> => {
    busy++;
    const now = o._now();
    b.forEach((e) => (e.sa = now));
    const body = JSON.stringify(b);
    // retry: 429 / 5xx / network error; otherwise (2xx, other 4xx) done for good
    const fin = (retry: unknown, ra?: string | null) => {
      busy--;
      const s = t._store;
      if (stopped) return;
      if (retry) {
        if (s) s.add(b);
        // exponential backoff with jitter: 1s, 2s, 4s ... 60s, times 0.5..1; Retry-After (seconds) wins if longer
        const d = Math.max(Math.min(6e4, 1e3 * 2 ** fails) * (0.5 + o._random() / 2), +ra! * 1e3 || 0);
        if (++fails < ATTEMPTS) q.unshift(...b);
        else fails = 0;
        retryAt = o._now() + d;
        sched(d, 1);
      } else {
        fails = retryAt = 0;
        if (s) s.remove(b);
        q.length < max ? q.length && sched(interval) : t._flush();
      }
    };
    try {
      return o._fetch!(o._url, {
        method: 'POST',
        // keepalive requests are limited to 64 KiB in flight
        keepalive: body.length < 6e4,
        body,
        headers: { 'Content-Type': 'text/plain' },
      }).then(
        (r) => fin(r.status == 429 || r.status > 499, r.headers.get('Retry-After')),
        () => fin(1),
      );
    } catch (_) {
      // no fetch, or it threw synchronously: sendBeacon (true = queued by the browser)
      let ok: unknown;
      try {
        ok = o._beacon!(o._url, body);
      } catch (_) {}
      fin(!ok);
      return Promise.resolve();
    }
  };

  const t: Transport = {
    _add(ev) {
      if (stopped) return;
      q.push(ev);
      q.length < max ? sched(interval) : t._flush();
    },
    _flush(urgent) {
      const ps: Promise<void>[] = [];
      const wait = retryAt - o._now();
      if (stopped || !q.length) {
        /* nothing to do */
      } else if (wait > 0) urgent ? t._store && t._store.add(q) : sched(wait);
      else if (urgent || !busy) {
        do ps.push(send(q.splice(0, max)));
        while (urgent && q.length);
      }
      return Promise.all(ps);
    },
    _stop(off) {
      if ((stopped = off)) {
        q = [];
        if (t._store) t._store.clear();
      }
    },
    _load(evs) {
      const have: Record<string, 1> = {};
      q.forEach((e) => (have[e.id] = 1));
      evs.forEach((e) => stopped || have[e.id] || q.push(e));
      fails = retryAt = 0;
      sched(interval, 1);
    },
  };
  return t;
}
