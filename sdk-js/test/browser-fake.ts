// A tiny fake browser to run the built bundles (dist/*.js, minified and
// property-mangled) in a node:vm context: enough DOM for the script tag,
// history, events, storage, fetch and timers.
import vm from 'node:vm';
import { webcrypto } from 'node:crypto';
import { FakeClock, fakeFetch, MemStorage, type Reply } from './helpers';

type Listener = (ev: any) => void;
class Target {
  private l: Record<string, Listener[]> = {};
  addEventListener(type: string, fn: Listener) {
    (this.l[type] = this.l[type] || []).push(fn);
  }
  removeEventListener(type: string, fn: Listener) {
    this.l[type] = (this.l[type] || []).filter((f) => f !== fn);
  }
  fire(type: string, ev: any = {}) {
    for (const f of this.l[type] || []) f({ type, ...ev });
  }
}

/** Element double with closest() for the simple selectors the snippet uses. */
export class FakeEl {
  parentElement: FakeEl | null = null;
  nodeType = 1;
  tagName: string;
  style: { position?: string } = {};
  constructor(
    tag: string,
    public attrs: Record<string, string> = {},
    public textContent = '',
  ) {
    this.tagName = tag.toUpperCase();
  }
  append(child: FakeEl) {
    child.parentElement = this;
    return child;
  }
  getAttribute(n: string) {
    return n in this.attrs ? this.attrs[n] : null;
  }
  hasAttribute(n: string) {
    return n in this.attrs;
  }
  get href() {
    return this.attrs.href ? new URL(this.attrs.href, browserHref.v).href : '';
  }
  matches(selector: string): boolean {
    return selector.split(',').some((s) => {
      const m = /^([a-z]*)(?:\[([a-z-]+)(?:=([a-z]+))?\])?$/.exec(s.trim());
      if (!m) return false;
      const [, tag, attr, val] = m;
      if (tag && tag.toUpperCase() != this.tagName) return false;
      if (attr && !(attr in this.attrs)) return false;
      if (val && this.attrs[attr] != val) return false;
      return true;
    });
  }
  closest(selector: string): FakeEl | null {
    for (let e: FakeEl | null = this; e; e = e.parentElement) if (e.matches(selector)) return e;
    return null;
  }
}

// current page URL, for FakeEl.href resolution
const browserHref = { v: 'https://site.test/' };

export interface BrowserOpts {
  src?: string;
  attrs?: Record<string, string>;
  href?: string;
  referrer?: string;
  ls?: MemStorage;
  ss?: MemStorage;
  replies?: Reply[];
  nav?: Record<string, unknown>;
  /** code run before the bundle (the page's inline stub) */
  before?: string;
}

export function makeBrowser(o: BrowserOpts = {}) {
  const clock = new FakeClock();
  const ff = fakeFetch(o.replies);
  const ls = o.ls || new MemStorage();
  const ss = o.ss || new MemStorage();
  browserHref.v = o.href || 'https://site.test/start?x=1';
  const location = {
    get href() {
      return browserHref.v;
    },
  };
  const w: any = new Target();
  const d: any = new Target();
  const script = new FakeEl('script', { src: o.src || 'https://numu.example.com/numu.js', ...(o.attrs || {}) });
  Object.assign(d, {
    currentScript: Object.assign(script, { src: script.attrs.src }),
    querySelector: () => null,
    title: 'Start page',
    referrer: o.referrer ?? 'https://google.test/',
    visibilityState: 'visible',
    documentElement: { scrollHeight: 4000, scrollTop: 0 },
    body: Object.assign(new FakeEl('body'), { scrollHeight: 4000 }),
  });
  const go = (url?: string) => {
    if (url != null) browserHref.v = new URL(url, browserHref.v).href;
  };
  const history = {
    pushState: (_s: unknown, _t: string, url?: string) => go(url),
    replaceState: (_s: unknown, _t: string, url?: string) => go(url),
  };
  const beacons: string[] = [];
  const navigator = {
    language: 'de-DE',
    sendBeacon: (u: string, b: string) => (beacons.push(u + ' ' + b), true),
    ...(o.nav || {}),
  };
  Object.assign(w, {
    window: w,
    self: w,
    document: d,
    navigator,
    location,
    history,
    screen: { width: 1440, height: 900 },
    innerWidth: 1280,
    innerHeight: 800,
    scrollY: 0,
    localStorage: ls,
    sessionStorage: ss,
    fetch: (u: string, i: any) => ff.fetch(u, i),
    setTimeout: clock.setTimeout,
    clearTimeout: () => {},
    getComputedStyle: (e: FakeEl) => ({ position: e.style.position || 'static' }),
    URL,
    crypto: webcrypto,
  });
  const ctx = vm.createContext(w);
  // Date.now inside the page follows the fake clock
  vm.runInContext('Date.now = () => __now()', Object.assign(ctx, { __now: clock.now }));
  if (o.before) vm.runInContext(o.before, ctx);
  const load = (code: string) => vm.runInContext(code, ctx);
  const sent = () => ff.calls.flatMap((c) => c.body);
  return { w, d, ls, ss, clock, ...ff, beacons, load, sent, go, history, location };
}
