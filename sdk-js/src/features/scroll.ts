import type { Ctx } from '../client';
import { safe } from '../util';
import { depth } from './dom';

/**
 * Max scroll depth per page view, sent as `$scroll` {depth, px} when the page is
 * left (hidden / unloaded) or before the next SPA page view, with the URL of
 * the page it belongs to. Sent again only if the depth grew meanwhile.
 */
export function scroll(c: Ctx, w: Window, d: Document): void {
  if (!c._on('auto-scroll')) return;
  let url = location.href;
  let max = { depth: 0, px: 0 };
  let sent = 0;
  let seen = 0;
  const measure = safe(() => {
    const de = d.documentElement;
    const m = depth(w.scrollY || de.scrollTop, w.innerHeight, Math.max(de.scrollHeight, d.body ? d.body.scrollHeight : 0));
    if (m.px > max.px) max = m;
  });
  const emit = () => {
    if (max.depth > sent) {
      sent = max.depth;
      c._send('track', { e: '$scroll', url, p: max });
    }
  };
  w.addEventListener('scroll', measure, { passive: true });
  c._lv.push(
    safe(() => {
      measure();
      emit();
    }),
  );
  c._pg.push(
    safe(() => {
    // the previous page's depth goes out before the new page view; the DOM may
    // already show the new route, so use what scroll events recorded
    if (seen) emit();
    seen = 1;
    url = location.href;
    max = { depth: 0, px: 0 };
    sent = 0;
    // depth without scrolling (first viewport), once the route has rendered
    setTimeout(measure, 500);
    }),
  );
}
