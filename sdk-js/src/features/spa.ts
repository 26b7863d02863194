import type { Ctx } from '../client';
import { safe } from '../util';

/**
 * Page views for single-page apps: history.pushState / replaceState, popstate
 * and (unless data-auto-hash="false") hash changes. A page view is sent only
 * when the URL actually changed.
 */
export function spa(c: Ctx, w: Window): void {
  if (!c._on('auto-pageview') || !c._on('auto-spa')) return;
  const hash = c._on('auto-hash');
  const h = w.history as any;
  const cur = () => (hash ? location.href : location.href.split('#')[0]);
  let last = cur();
  const check = safe(() => {
    const u = cur();
    if (u != last) {
      last = u;
      c._api.page();
    }
  });
  ['pushState', 'replaceState'].forEach((m) => {
    const orig = h[m];
    if (orig)
      h[m] = function (this: unknown) {
        // eslint-disable-next-line prefer-rest-params
        const r = orig.apply(this, arguments);
        check();
        return r;
      };
  });
  w.addEventListener('popstate', check);
  w.addEventListener('hashchange', check);
}
