import { createClient, replay, type Ctx } from './client';
import { createTransport } from './transport';
import type { StorageLike } from './types';

/** A feature module of the full bundle: gets the client and the browser globals. */
export type Feature = (c: Ctx, w: Window, d: Document) => void;

/**
 * Browser entry: read the script tag, wire the client to the real browser,
 * install features, replay the pre-load queue, send the first page view.
 * Nothing here may throw into the host page.
 */
export function boot(features: Feature[]): void {
  try {
    const w = window as any;
    const d = document;
    const n = navigator as any;
    const pre = w.numu;
    if (pre && pre.track) return; // loaded twice
    const sc = (d.currentScript || d.querySelector('script[data-key]')) as HTMLScriptElement;
    const attr = (k: string) => sc.getAttribute('data-' + k);
    const key = attr('key');
    if (!key) return;
    let ls: StorageLike | undefined;
    try {
      ls = w.localStorage;
    } catch (_) {
      /* storage blocked */
    }
    const tr = createTransport({
      // first-party only: the script's own origin unless data-api is set
      _url: (attr('api') || new URL(sc.src).origin).replace(/\/+$/, '') + '/e?k=' + encodeURIComponent(key),
      // called as functions (not methods) and may throw when missing: then sendBeacon is used
      _fetch: (u, i) => fetch(u, i),
      _beacon: (u, b) => n.sendBeacon(u, b),
      _now: Date.now,
      _random: Math.random,
      _setTimeout: (f, ms) => setTimeout(f, ms),
    });
    const c = createClient({
      _tr: tr,
      _ls: ls,
      _now: Date.now,
      _attr: attr,
      _ctx: (page) => ({
        url: location.href,
        ti: (page && d.title) || undefined,
        ref: (page > 1 && d.referrer) || undefined,
        vw: w.innerWidth,
        vh: w.innerHeight,
        sw: screen.width,
        sh: screen.height,
        lang: n.language,
      }),
      _dnt: attr('respect-dnt') == 'true' && (n.doNotTrack == '1' || n.globalPrivacyControl),
    });
    // page hidden / unloaded: leave hooks (scroll depth), then send everything.
    // Registered before the features so that their own listeners run after it.
    // Feature hooks are wrapped with safe(); the transport does not throw.
    const leave = () => {
      c._lv.forEach((f) => f());
      tr._flush(1);
    };
    d.addEventListener('visibilitychange', () => d.visibilityState == 'hidden' && leave());
    w.addEventListener('pagehide', leave);
    features.forEach((f) => f(c, w, d));
    w.numu = c._api;
    replay(c._api, pre);
    if (c._on('auto-pageview')) c._api.page();
  } catch (_) {
    /* never break the host page */
  }
}
