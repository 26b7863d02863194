import { K_SESSION, K_USER, K_ID, type Ctx } from '../client';
import type { Props } from '../types';
import { rid, sset } from '../util';

/** identify / alias / group / reset. The user id is stored only with consent. */
export function identity(c: Ctx): void {
  const { st, env } = c;
  const setUser = (u?: string) => {
    st.u = u;
    if (st.a) sset(env.ls, K_USER, u);
  };
  c.def('identify', (u: unknown, tr?: Props) => {
    if (u == null || u === '') return;
    setUser('' + u);
    c.send('identify', { tr });
  });
  c.def('alias', (u: unknown, pid?: unknown) => {
    if (u == null || u === '') return;
    const prev = pid != null ? '' + pid : st.u || st.a;
    setUser('' + u);
    c.send('alias', { pid: prev });
  });
  c.def('group', (g: unknown, tr?: Props) => {
    if (g != null && g !== '') c.send('group', { g: '' + g, tr });
  });
  c.def('reset', () => {
    setUser();
    sset(env.ss, K_SESSION);
    if (st.a) sset(env.ls, K_ID, (st.a = rid()));
  });
}
