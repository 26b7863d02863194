/** Small DOM helpers; pure enough to test in Node with plain objects. */

/** The subset of Element we read (so tests can pass plain objects). */
export interface El {
  nodeType: number;
  tagName: string;
  parentElement: El | null;
  getAttribute(name: string): string | null;
  textContent?: string | null;
}

/**
 * Short CSS selector: up to 3 levels, `tag#id` stops the walk, otherwise
 * `tag.class1.class2`; joined with `>`, at most 120 characters.
 */
export function sel(el: El | null): string {
  const out: string[] = [];
  for (let i = 0; el && el.nodeType == 1 && i < 3; i++, el = el.parentElement) {
    let s = el.tagName.toLowerCase();
    const id = el.getAttribute('id'); // not el.id: a form's "id" may be a named input
    if (id) {
      out.unshift(s + '#' + id);
      break;
    }
    const cls = (el.getAttribute('class') || '').trim();
    if (cls) s += '.' + cls.split(/\s+/).slice(0, 2).join('.');
    out.unshift(s);
    if (s == 'body') break;
  }
  return out.join('>').slice(0, 120);
}

/** Visible text of an element, whitespace-collapsed, at most 64 chars; never form values. */
export function text(el: El): string {
  return /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.getAttribute('contenteditable') != null
    ? ''
    : (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 64);
}

export const DOWNLOAD_EXT =
  'pdf,zip,gz,tgz,bz2,xz,rar,7z,dmg,exe,msi,pkg,deb,rpm,apk,iso,csv,xls,xlsx,doc,docx,ppt,pptx,odt,ods,odp,txt,rtf,epub,mp3,mp4,m4a,wav,mov,avi,mkv,webm';

/** Regex matching a URL path that ends in one of the comma-separated extensions. */
export function extRe(list: string): RegExp {
  return new RegExp('\\.(' + list.replace(/[\s.]/g, '').split(',').join('|') + ')$', 'i');
}

/**
 * Classify a link click: "$download" (by extension or download attribute),
 * "$outbound" (http(s) to another host), or "" (nothing to record).
 */
export function linkKind(href: string, pageHref: string, ext: RegExp, dlAttr?: boolean): string {
  const u = new URL(href, pageHref);
  if (!/^https?:$/.test(u.protocol)) return '';
  if (dlAttr || ext.test(u.pathname)) return '$download';
  return u.host != new URL(pageHref).host ? '$outbound' : '';
}

/**
 * Rage click detector: true once per burst when ≥3 clicks land within `ms`
 * (sliding window) and within `px` of the newest click.
 */
export function rageDetector(ms = 1e3, px = 30, n = 3): (t: number, x: number, y: number) => boolean {
  let c: number[][] = [];
  let fired = false;
  return (t, x, y) => {
    c = c.filter((p) => t - p[0] < ms && Math.hypot(p[1] - x, p[2] - y) <= px);
    if (!c.length) fired = false;
    c.push([t, x, y]);
    return c.length >= n && !fired ? (fired = true) : false;
  };
}

/** Scroll depth: deepest visible pixel and its percentage of the document height. */
export function depth(scrollY: number, viewH: number, docH: number): { depth: number; px: number } {
  const px = Math.max(0, Math.round(scrollY + viewH));
  return { depth: docH > 0 ? Math.min(100, Math.round((px * 100) / docH)) : 100, px };
}

/** True if the element or an ancestor is position: fixed or sticky. */
export function isFixed(el: El | null, pos: (el: El) => string): boolean {
  for (; el && el.nodeType == 1; el = el.parentElement) if (/^(fixed|sticky)$/.test(pos(el))) return true;
  return false;
}
