import type { Ev, FetchLike, OfflineStore, Timers } from './types';

export interface TransportOptions extends Timers {
  /** full collector URL, e.g. https://numu.example.com/e?k=KEY */
  url: string;
  fetch?: FetchLike;
  /** navigator.sendBeacon, bound; used when fetch is missing or throws */
  beacon?: (url: string, body: string) => boolean;
  now(): number;
  random(): number;
  /** batching interval in ms (default 1000) */
  interval?: number;
  /** events per request; reaching it flushes at once (default 10) */
  max?: number;
  /** consecutive failed attempts before a batch is dropped from memory (default 10) */
  attempts?: number;
}

export interface Transport {
  /** queue one event; sent after `interval` ms or once `max` events wait */
  add(ev: Ev): void;
  /**
   * Send now. Normal flushes send one batch at a time and honour backoff;
   * `urgent` (page hidden / unloading) sends everything at once, or, while
   * backing off, only persists the queue to the offline store.
   */
  flush(urgent?: boolean): Promise<unknown>;
  /** opt-out: drop everything in memory and in the offline store, stop sending */
  off(): void;
  /** opt back in */
  on(): void;
  /** merge events (e.g. from the offline store) into the queue, skipping known ids */
  load(evs: Ev[]): void;
  /** forget backoff and flush (browser came back online) */
  resume(): void;
  /** offline persistence, installed by the full bundle */
  store?: OfflineStore;
}

const CAP = 6e4; // longest backoff between retries (ms)

export function createTransport(o: TransportOptions): Transport {
  const interval = o.interval || 1e3;
  const max = o.max || 10;
  const attempts = o.attempts || 10;
  let q: Ev[] = [];
  let timer: unknown;
  let retryAt = 0;
  let fails = 0;
  let busy = 0;
  let stopped = false;

  const clear = () => {
    if (timer) o.clearTimeout(timer);
    timer = 0;
  };
  const sched = (ms: number) => {
    if (!timer)
      timer = o.setTimeout(() => {
        timer = 0;
        t.flush();
      }, ms);
  };

  const send = (b: Ev[]): Promise<void> => {
    busy++;
    const now = o.now();
    b.forEach((e) => (e.sa = now));
    const body = JSON.stringify(b);
    const fin = (retry: unknown, ra?: string | null) => {
      busy--;
      if (stopped) return;
      const s = t.store;
      if (!retry) {
        // accepted (2xx, incl. partially refused) or rejected for good (4xx): never resend
        fails = retryAt = 0;
        if (s) s.remove(b);
        if (q.length >= max) t.flush();
        else if (q.length) sched(interval);
        return;
      }
      if (s) s.add(b);
      // exponential backoff with jitter: 1s, 2s, 4s ... capped, x0.5..1
      let d = Math.min(CAP, 1e3 * 2 ** fails) * (0.5 + o.random() / 2);
      if (ra) {
        const sec = +ra;
        d = Math.max(d, Math.min(36e5, sec === sec ? sec * 1e3 : Date.parse(ra) - o.now() || 0));
      }
      if (++fails < attempts) q.unshift(...b);
      else fails = 0; // give up on this batch in memory; the offline store keeps it
      retryAt = o.now() + d;
      clear();
      sched(d);
    };
    try {
      return o.fetch!(o.url, {
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
      // no fetch (or it threw synchronously): fall back to sendBeacon
      let ok: boolean | undefined;
      try {
        ok = o.beacon!(o.url, body);
      } catch (_) {}
      fin(!ok);
      return Promise.resolve();
    }
  };

  const t: Transport = {
    add(ev) {
      if (stopped) return;
      q.push(ev);
      if (q.length >= max) t.flush();
      else sched(interval);
    },
    flush(urgent) {
      const ps: Promise<void>[] = [];
      if (!stopped && q.length) {
        const wait = retryAt - o.now();
        if (wait > 0) {
          if (urgent) {
            if (t.store) t.store.add(q);
          } else sched(wait);
        } else if (urgent || !busy) {
          clear();
          do ps.push(send(q.splice(0, max)));
          while (urgent && q.length);
        }
      }
      return Promise.all(ps);
    },
    off() {
      stopped = true;
      q = [];
      clear();
      if (t.store) t.store.clear();
    },
    on() {
      stopped = false;
    },
    load(evs) {
      if (stopped) return;
      const have: Record<string, 1> = {};
      q.forEach((e) => (have[e.id] = 1));
      evs.forEach((e) => have[e.id] || q.push(e));
      if (q.length) sched(interval);
    },
    resume() {
      fails = retryAt = 0;
      clear();
      t.flush();
    },
  };
  return t;
}
