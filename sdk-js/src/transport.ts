import type { Ev, FetchLike, Timers } from './types';

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
   * Send now. Normal flushes send one batch at a time and honour backoff.
   * mode 1 (page hidden / unloading) sends everything at once unless backing off.
   * mode 2 (back online, offline queue loaded) sends everything at once, ignoring backoff.
   */
  _flush(mode?: 1 | 2): Promise<unknown>;
  /** true = opted out: drop the queue, stop sending */
  _stop(off: boolean): void;
  /** the queue itself (events not yet sent, or waiting for a retry) */
  _q: Ev[];
  /** the options; the offline queue wraps `_fetch` / `_beacon` to see each request's fate */
  _o: TransportOptions;
}

/** consecutive failed attempts after which a batch is dropped from memory (an offline store keeps it) */
export const ATTEMPTS = 10;

/** 429 and 5xx are retried (as are network errors); every other status is final. */
export const retryable = (status: number) => status == 429 || status > 499;

export function createTransport(o: TransportOptions): Transport {
  const interval = o._interval || 1e3;
  const max = o._max || 10;
  const q: Ev[] = [];
  let timer: unknown;
  let retryAt = 0;
  let fails = 0;
  let busy = 0;
  let stopped: unknown;

  // At most one timer. A timer that fires early (e.g. the batch interval during
  // a backoff) finds the backoff in _flush and re-arms itself for the rest.
  const sched = (ms: number) => {
    timer =
      timer ||
      o._setTimeout(() => {
        timer = 0;
        t._flush();
      }, ms);
  };

  const send = (b: Ev[]): Promise<void> | undefined => {
    busy++;
    const now = o._now();
    b.forEach((e) => (e.sa = now));
    const body = JSON.stringify(b);
    // retry: 429 / 5xx / network error; otherwise (2xx, other 4xx) done for good
    const fin = (retry: unknown, ra?: string | null) => {
      busy--;
      if (stopped) return;
      if (retry) {
        // exponential backoff with jitter: 1s, 2s, 4s ... 60s, times 0.5..1; Retry-After (seconds) wins if longer
        const d = Math.max(Math.min(6e4, 1e3 * 2 ** fails) * (0.5 + o._random() / 2), +ra! * 1e3 || 0);
        if (++fails < ATTEMPTS) q.unshift(...b);
        else fails = 0;
        retryAt = o._now() + d;
        sched(d);
      } else {
        fails = retryAt = 0;
        q.length < max ? q.length && sched(interval) : t._flush();
      }
    };
    try {
      return o._fetch!(o._url, {
        method: 'POST',
        // keepalive bodies are limited to 64 KiB (in bytes, all in flight together):
        // 20 000 UTF-16 units stay below even when every char is 3 bytes in UTF-8
        keepalive: body.length < 2e4,
        // a string body is sent as text/plain;charset=UTF-8: a CORS "simple" request, no preflight
        body,
      }).then(
        (r) => fin(retryable(r.status), r.headers.get('Retry-After')),
        () => fin(1),
      );
    } catch (_) {
      // no fetch, or it threw synchronously: sendBeacon (true = queued by the browser)
      let ok: unknown;
      try {
        ok = o._beacon!(o._url, body);
      } catch (_) {}
      return fin(!ok) as undefined;
    }
  };

  const t: Transport = {
    _add(ev) {
      if (stopped) return;
      q.push(ev);
      q.length < max ? sched(interval) : t._flush();
    },
    _q: q,
    _o: o,
    _flush(mode) {
      const ps: Array<Promise<void> | undefined> = [];
      const wait = retryAt - o._now();
      if (stopped || !q.length) {
        /* nothing to do */
      } else if (wait > 0 && mode != 2) {
        if (!mode) sched(wait);
      } else if (mode || !busy) {
        do ps.push(send(q.splice(0, max)));
        while (mode && q.length);
      }
      return Promise.all(ps);
    },
    _stop(off) {
      if ((stopped = off)) q.length = 0;
    },
  };
  return t;
}
