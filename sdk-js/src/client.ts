import type { Ev, Props, StorageLike } from './types';
import type { Transport } from './transport';
import { rid, sget, sset } from './util';

// Internal property names start with "_": the build shortens them (esbuild mangleProps).

/** Everything the client needs from the browser, injected so Node tests can fake it. */
export interface Env {
  _tr: Transport;
  _now(): number;
  /** localStorage, absent when blocked */
  _ls?: StorageLike;
  /**
   * Per-event context: url, vw, vh, sw, sh, lang; for page views (`page` >= 1)
   * also ti (title), and for the first page view of the load (`page` == 2)
   * ref (referrer). Empty values must be undefined.
   */
  _ctx(page: number): Partial<Ev>;
  /** value of a data-* attribute of the script tag (name without "data-") */
  _attr(name: string): string | null;
  /** Do-Not-Track / Global Privacy Control is on and data-respect-dnt="true" */
  _dnt?: unknown;
}

export type Fn = (...args: any[]) => any;

/** window.numu; identify/alias/group/reset/consent exist in the full bundle only. */
export interface Api {
  (...args: unknown[]): void;
  push(args: ArrayLike<unknown>): void;
  track(event: string, props?: Props): void;
  page(props?: Props): void;
  identify?(userId: string, traits?: Props): void;
  alias?(newId: string, previousId?: string): void;
  group?(groupId: string, traits?: Props): void;
  reset?(): void;
  consent?(granted: boolean): void;
  optOut(): void;
  optIn(): void;
  ready(cb: (api: Api) => void): void;
  flush(): Promise<unknown>;
  [method: string]: unknown;
}

/** The client as seen by feature modules (full bundle). */
export interface Ctx {
  _api: Api;
  _env: Env;
  /** opted out / DNT: nothing is sent */
  _off?: boolean;
  /** identity fields added to every event (anonymous / user / session id), set by the ids feature */
  _ids(): Partial<Ev> | void;
  /** build an event (context, ids) and queue it */
  _send(t: string, f?: Partial<Ev>): void;
  /** define a public method; it never throws into the host page */
  _def(name: string, fn: Fn): void;
  /** boolean data-* switch, on unless set to "false" */
  _on(name: string): boolean;
  /** run before each page view (e.g. scroll depth of the previous page) */
  _pg: Array<() => void>;
  /** run when the page is hidden / unloaded, before the urgent flush */
  _lv: Array<() => void>;
}

export const K_OPTOUT = 'numu_optout';

export function createClient(env: Env): Ctx {
  const tr = env._tr;
  let first = 1;

  // numu('track', 'x') works like numu.track('x'), so the function stub keeps working after load
  const api = function () {
    // eslint-disable-next-line prefer-rest-params
    api.push(arguments);
  } as unknown as Api;

  const c: Ctx = {
    _api: api,
    _env: env,
    _pg: [],
    _lv: [],
    _ids() {},
    _on: (n) => env._attr(n) != 'false',
    _def(name, fn) {
      api[name] = (...a: unknown[]) => {
        try {
          return fn(...a);
        } catch (_) {
          /* never throw into the host page */
        }
      };
    },
    _send(t, f) {
      if (c._off) return;
      // JSON round trip: a snapshot of the caller's props without undefined
      // values (empty fields are left undefined) or functions; a cycle throws
      // here (caught by _def) instead of breaking a batch later
      tr._add(JSON.parse(JSON.stringify(Object.assign({ t, id: rid(), ts: env._now() }, c._ids(), env._ctx(t == 'page' ? first + 1 : 0), f))));
    },
  };

  c._def('push', ([m, ...a]: [string, ...unknown[]]) => api.hasOwnProperty(m) && (api[m] as Fn)(...a));
  c._def('track', (e: unknown, p?: Props) => e && c._send('track', { e: '' + e, p }));
  c._def('page', (p?: Props) => {
    c._pg.forEach((f) => f());
    c._send('page', { p });
    first = 0;
  });
  c._def('optOut', () => {
    sset(env._ls, K_OPTOUT, '1');
    tr._stop((c._off = true));
  });
  c._def('optIn', () => {
    sset(env._ls, K_OPTOUT);
    tr._stop((c._off = !!env._dnt)); // DNT/GPC (when honoured) still wins
  });
  c._def('ready', (cb: Fn) => cb(api));
  c._def('flush', () => tr._flush());

  // opted out earlier, or DNT/GPC honoured: no traffic at all
  if (env._dnt || sget(env._ls, K_OPTOUT)) tr._stop((c._off = true));
  return c;
}

/** Replay calls queued by the stub before the script loaded, in order. */
export function replay(api: Api, pre: unknown): void {
  // an array stub, or a function stub keeping its calls in .q
  ([] as ArrayLike<unknown>[]).concat((pre && (pre as any).q) || pre || []).forEach(api.push);
}
