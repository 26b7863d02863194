import type { Ctx } from '../client';
import { safe } from '../util';
import { DOWNLOAD_EXT, extRe, isFixed, linkKind, rageDetector, sel, text, type El } from './dom';

const INTERACTIVE = 'a,button,input,select,textarea,label,summary,[role=button],[role=link],[onclick]';

/**
 * Clicks for heatmaps ($click), rage clicks ($rageclick), outbound links
 * ($outbound), downloads ($download) and form submits ($submit).
 * Elements inside [data-numu-ignore] are not recorded.
 */
export function autocapture(c: Ctx, w: Window, d: Document): void {
  const clicks = c._on('auto-clicks');
  const rage = c._on('auto-rageclicks') && rageDetector();
  const out = c._on('auto-outbound');
  const dl = c._on('auto-downloads');
  const ext = extRe(c._env._attr('download-ext') || DOWNLOAD_EXT);
  const track = (e: string, p: object) => c._send('track', { e, p: p as Record<string, unknown> });

  const onClick = safe((ev: MouseEvent, aux?: 1) => {
    const t = ev.target as Element | null;
    if (!t || !t.closest || t.closest('[data-numu-ignore]')) return;
    // heatmap and rage clicks need a pointer position: skip keyboard / synthetic clicks (detail 0)
    if (!aux && ev.detail) {
      const el = (t.closest(INTERACTIVE) || t) as unknown as El;
      const x = Math.round(ev.pageX);
      const y = Math.round(ev.pageY);
      const s = sel(el);
      if (clicks)
        track('$click', {
          x,
          y,
          vw: w.innerWidth,
          vh: w.innerHeight,
          fixed: isFixed(t as unknown as El, (e) => w.getComputedStyle(e as unknown as Element).position),
          sel: s,
          text: text(el),
        });
      if (rage && rage(ev.timeStamp || Date.now(), x, y)) track('$rageclick', { x, y, sel: s });
    }
    const a = t.closest('a[href]') as HTMLAnchorElement | null;
    if (a && (out || dl)) {
      const k = linkKind(a.href, location.href, ext, a.hasAttribute('download'));
      if (k == '$download' ? dl : k && out) track(k, { href: a.href });
    }
  });
  d.addEventListener('click', (e) => onClick(e), true);
  // middle-click opens links in a new tab: count it for outbound / downloads only
  d.addEventListener('auxclick', (e) => e.button == 1 && onClick(e, 1), true);
  if (c._on('auto-forms'))
    d.addEventListener(
      'submit',
      safe((e: Event) => {
        const f = e.target as Element;
        if (!f.closest('[data-numu-ignore]')) track('$submit', { sel: sel(f as unknown as El) });
      }),
      true,
    );
}
