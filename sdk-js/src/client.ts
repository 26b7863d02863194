import type { Ev, Props, StorageLike } from './types';
import type { Transport } from './transport';
import { rid, sget, sset } from './util';

/** Everything the client needs from the browser, injected so Node tests can fake it. */
export interface Env {
  tr: Transport;
  now(): number;
  /** localStorage / sessionStorage, absent when blocked */
  ls?: StorageLike;
  ss?: StorageLike;
  /** per-event context: url, vw, vh, sw, sh, lang */
  ctx(): Partial<Ev>;
  title(): string;
  referrer(): string;
  /** value of a data-* attribute of the script tag (name without "data-") */
  attr(name: string): string | null;
  /** Do-Not-Track / Global Privacy Control is on and data-respect-dnt="true" */
  dnt?: unknown;
}

export type Fn = (...args: any[]) => any;

export interface Api {
  (...args: unknown[]): void;
  push(args: ArrayLike<unknown>): void;
  track(event: string, props?: Props): void;
  page(props?: Props): void;
  consent(granted: boolean): void;
  optOut(): void;
  optIn(): void;
  ready(cb: (api: Api) => void): void;
  flush(): Promise<unknown>;
  identify?(userId: string, traits?: Props): void;
  alias?(newId: string, previousId?: string): void;
  group?(groupId: string, traits?: Props): void;
  reset?(): void;
  [method: string]: unknown;
}

/** Client state shared with the feature modules. */
export interface State {
  /** anonymous id; set only with consent */
  a?: string;
  /** user id (identify) */
  u?: string;
  /** opted out / DNT: nothing is sent */
  off?: boolean;
}

/** What feature modules (full bundle) get to extend the client. */
export interface Ctx {
  api: Api;
  st: State;
  env: Env;
  /** build an event (context, ids) and queue it */
  send(t: string, f?: Partial<Ev>): void;
  /** define a public method; it never throws into the host page */
  def(name: string, fn: Fn): void;
  /** boolean data-* switch, default on unless set to "false" */
  on(name: string): boolean;
  /** run before each page view (e.g. scroll depth of the previous page) */
  pg: Array<() => void>;
  /** run when the page is hidden / unloaded, before the urgent flush */
  lv: Array<() => void>;
}

export const K_ID = 'numu_id';
export const K_USER = 'numu_u';
export const K_SESSION = 'numu_s';
export const K_OPTOUT = 'numu_optout';
const SESSION_IDLE = 18e5; // 30 min

export function createClient(env: Env): Ctx {
  const { ls, ss, tr } = env;
  const st: State = {};
  let sv: string | undefined; // "sessionId.lastActivity"
  let first = 1;

  /** session id, renewed after 30 min without events; only with consent */
  const sess = () => {
    if (!st.a) return;
    const now = env.now();
    const v = (sv || sget(ss, K_SESSION) || '').split('.');
    sset(ss, K_SESSION, (sv = (v[0] && now - +v[1] < SESSION_IDLE ? v[0] : rid()) + '.' + now));
    return sv.split('.')[0];
  };

  // numu('track', 'x') works like numu.track('x'), so the function stub keeps working after load
  const api = function () {
    // eslint-disable-next-line prefer-rest-params
    api.push(arguments);
  } as unknown as Api;

  const call = (args: ArrayLike<unknown>) => {
    const m = args[0] as string;
    if (api.hasOwnProperty(m)) (api[m] as Fn).apply(api, [].slice.call(args, 1));
  };

  const c: Ctx = {
    api,
    st,
    env,
    pg: [],
    lv: [],
    on: (n) => env.attr(n) != 'false',
    def(name, fn) {
      api[name] = function (this: unknown) {
        try {
          // eslint-disable-next-line prefer-rest-params
          return fn.apply(this, arguments as unknown as unknown[]);
        } catch (_) {
          /* never throw into the host page */
        }
      };
    },
    send(t, f) {
      if (st.off) return;
      // JSON round trip: snapshot of the caller's props, drops undefined and
      // functions, and throws (caught by def) on cycles instead of failing later
      const ev: Ev = JSON.parse(
        JSON.stringify(Object.assign({ t, id: rid(), ts: env.now(), a: st.a, u: st.u, s: sess() }, env.ctx(), f)),
      );
      for (const k in ev) {
        const v = (ev as any)[k];
        if (v == null || v === '' || (typeof v == 'object' && !Object.keys(v).length)) delete (ev as any)[k];
      }
      tr.add(ev);
    },
  };

  c.def('push', call);
  c.def('track', (e: string, p?: Props) => e && c.send('track', { e: '' + e, p }));
  c.def('page', (p?: Props) => {
    c.pg.forEach((f) => f());
    c.send('page', { p, ti: env.title(), ref: first ? env.referrer() : '' });
    first = 0;
  });
  c.def('consent', (yes: unknown) => {
    if (yes) {
      if (st.off) return;
      sset(ls, K_ID, (st.a = st.a || rid()));
      sset(ls, K_USER, st.u);
    } else {
      st.a = sv = undefined;
      sset(ls, K_ID);
      sset(ls, K_USER);
      sset(ss, K_SESSION);
    }
  });
  c.def('optOut', () => {
    sset(ls, K_OPTOUT, '1');
    api.consent(false);
    st.off = true;
    tr.off();
  });
  c.def('optIn', () => {
    sset(ls, K_OPTOUT);
    if (!env.dnt) {
      st.off = false;
      tr.on();
    }
  });
  c.def('ready', (cb: Fn) => cb(api));
  c.def('flush', () => tr.flush());

  // stored anonymous id == consent given earlier (numu.consent(true))
  st.a = sget(ls, K_ID) || undefined;
  if (st.a) st.u = sget(ls, K_USER) || undefined;
  const cs = env.attr('consent');
  if (env.dnt || sget(ls, K_OPTOUT)) {
    // opted out or DNT/GPC honoured: no traffic and no identifiers at all
    api.consent(false);
    st.off = true;
    tr.off();
  } else if (cs) api.consent(cs == 'true');
  return c;
}

/** Replay calls queued by the stub before the script loaded, in order. */
export function replay(api: Api, pre: unknown): void {
  const q = pre && (Array.isArray(pre) ? pre : (pre as { q?: unknown[] }).q);
  if (q) for (let i = 0; i < q.length; i++) api.push(q[i] as ArrayLike<unknown>);
}
