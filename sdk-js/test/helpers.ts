// Test doubles for the injected browser dependencies: clock + timers, fetch, storage.
import type { Ev, FetchLike, StorageLike } from '../src/types';
import { createTransport, type TransportOptions } from '../src/transport';
import { createClient, type Env } from '../src/client';

/** Let pending promise callbacks (fake fetch responses) run. */
export const tick = () => new Promise<void>((r) => setImmediate(r));

/** A manual clock with setTimeout; `advance` runs due timers in time order. */
export class FakeClock {
  t = 1_700_000_000_000;
  private seq = 0;
  timers: { at: number; seq: number; fn: () => void }[] = [];
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.push({ at: this.t + Math.max(0, ms || 0), seq: id, fn });
    return id;
  };
  /** Delays of the pending timers, relative to now, sorted. */
  pending(): number[] {
    return this.timers.map((x) => x.at - this.t).sort((a, b) => a - b);
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await tick();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await tick();
  }
}

export type Reply = number | 'network' | { status: number; retryAfter?: string; body?: string };

export interface Call {
  url: string;
  keepalive: boolean;
  method: string;
  body: Ev[];
  raw: string;
}

/** fetch double: records requests, answers from a script of replies (default 204). */
export function fakeFetch(replies: Reply[] = []) {
  const calls: Call[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, keepalive: init.keepalive, method: init.method, body: JSON.parse(init.body), raw: init.body });
    const r = replies.length ? replies.shift()! : 204;
    if (r === 'network') return Promise.reject(new TypeError('Failed to fetch'));
    const o = typeof r == 'number' ? { status: r } : r;
    return Promise.resolve({
      status: o.status,
      headers: { get: (h: string) => (h.toLowerCase() == 'retry-after' ? o.retryAfter ?? null : null) },
    });
  };
  return { fetch, calls, replies };
}

/** In-memory Web Storage. */
export class MemStorage implements StorageLike {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.has(k) ? this.m.get(k)! : null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, String(v));
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  keys() {
    return [...this.m.keys()].sort();
  }
}

/** Storage whose every access throws (Safari private mode, blocked cookies). */
export const brokenStorage: StorageLike = {
  getItem() {
    throw new Error('SecurityError');
  },
  setItem() {
    throw new Error('QuotaExceededError');
  },
  removeItem() {
    throw new Error('SecurityError');
  },
};

export const URL_E = 'https://numu.test/e?k=KEY';

/** Transport wired to a fake clock and fetch; random fixed at 1 (no jitter reduction) unless given. */
export function setupTransport(opts: Partial<TransportOptions> & { replies?: Reply[] } = {}) {
  const clock = new FakeClock();
  const ff = fakeFetch(opts.replies);
  const tr = createTransport({
    _url: URL_E,
    _fetch: ff.fetch,
    _now: clock.now,
    _random: () => 1,
    _setTimeout: clock.setTimeout,
    ...opts,
  });
  return { clock, ...ff, tr };
}

/** Client + transport with fake browser env; `attrs` are the script tag's data-* attributes. */
export function setupClient(
  o: { attrs?: Record<string, string>; ls?: StorageLike; dnt?: boolean; replies?: Reply[] } = {},
) {
  const t = setupTransport({ replies: o.replies });
  const ls = o.ls || new MemStorage();
  const attrs = o.attrs || {};
  const env: Env = {
    _tr: t.tr,
    _now: t.clock.now,
    _ls: ls,
    _attr: (n) => (n in attrs ? attrs[n] : null),
    _ctx: (page) => ({
      url: 'https://site.test/a?b=1',
      ti: page ? 'Title' : undefined,
      ref: page > 1 ? 'https://ref.test/' : undefined,
      vw: 800,
      vh: 600,
      sw: 1920,
      sh: 1080,
      lang: 'en-US',
    }),
    _dnt: o.dnt,
  };
  const c = createClient(env);
  /** all events sent so far, flattened */
  const sent = () => t.calls.flatMap((x) => x.body);
  return { ...t, c, api: c._api, ls, env, sent };
}
