import type { Ctx } from '../client';
import type { Props, StorageLike } from '../types';
import { rid, sget, sset } from '../util';

export const K_ID = 'numu_id';
export const K_USER = 'numu_u';
export const K_SESSION = 'numu_s';
export const SESSION_IDLE = 18e5; // 30 min

/**
 * Identifiers, all gated by consent:
 * - anonymous id `a` (localStorage numu_id) and session id `s` (sessionStorage
 *   numu_s, renewed after 30 min without events) exist only after consent;
 *   without consent nothing is stored and neither is sent;
 * - user id `u` (identify / alias) is sent once known and stored only with consent.
 * A stored numu_id means consent was given on an earlier page.
 */
export function ids(c: Ctx, w: Window): void {
  const env = c._env;
  const ls = env._ls;
  let ss: StorageLike | undefined;
  try {
    ss = w.sessionStorage;
  } catch (_) {
    /* blocked */
  }
  let a = sget(ls, K_ID) || undefined; // anonymous id; set == consent
  let u: string | undefined = (a && sget(ls, K_USER)) || undefined;
  let sv: string | undefined; // "sessionId.lastActivity"

  const sess = () => {
    if (!a) return;
    const now = env._now();
    const v = (sv || sget(ss, K_SESSION) || '').split('.');
    sset(ss, K_SESSION, (sv = (v[0] && now - +v[1] < SESSION_IDLE ? v[0] : rid()) + '.' + now));
    return sv.split('.')[0];
  };
  const setUser = (id?: unknown) => {
    u = id == null ? undefined : '' + id;
    if (a) sset(ls, K_USER, u);
  };
  c._ids = () => ({ a, u, s: sess() });

  c._def('consent', (yes: unknown) => {
    if (!yes) {
      a = u = sv = undefined;
      sset(ls, K_ID);
      sset(ls, K_USER);
      sset(ss, K_SESSION);
    } else if (!c._off) {
      sset(ls, K_ID, (a = a || rid()));
      setUser(u);
    }
  });
  c._def('identify', (id: unknown, tr?: Props) => {
    if (id == null || id === '') return;
    setUser(id);
    c._send('identify', { tr });
  });
  c._def('alias', (id: unknown, pid?: unknown) => {
    if (id == null || id === '') return;
    const prev = pid != null ? '' + pid : u || a;
    setUser(id);
    c._send('alias', { pid: prev });
  });
  c._def('group', (g: unknown, tr?: Props) => g != null && g !== '' && c._send('group', { g: '' + g, tr }));
  c._def('reset', () => {
    setUser();
    sv = undefined;
    sset(ss, K_SESSION);
    if (a) sset(ls, K_ID, (a = rid()));
  });

  const optOut = c._api.optOut;
  c._def('optOut', () => {
    optOut();
    c._api.consent!(false); // forget all identifiers
  });

  const cs = env._attr('consent');
  if (c._off) c._api.consent!(false); // opted out / DNT: keep no identifiers
  else if (cs) c._api.consent!(cs == 'true');
}
