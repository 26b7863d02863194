import { test } from 'node:test';
import assert from 'node:assert/strict';
import { depth, DOWNLOAD_EXT, extRe, isFixed, linkKind, rageDetector, sel, text, type El } from '../src/features/dom';

/** Minimal element double. */
function el(tag: string, attrs: Record<string, string> = {}, parent: El | null = null, textContent = ''): El {
  return {
    nodeType: 1,
    tagName: tag.toUpperCase(),
    parentElement: parent,
    textContent,
    getAttribute: (n) => (n in attrs ? attrs[n] : null),
  };
}

test('sel: tag, first two classes, up to 3 levels, stops at an id', () => {
  const body = el('body');
  const main = el('main', { id: 'content' }, body);
  const div = el('div', { class: '  card  featured big ' }, main);
  const ul = el('ul', {}, div);
  const li = el('li', { class: 'item' }, ul);
  const a = el('a', { class: 'link' }, li);
  assert.equal(sel(a), 'ul>li.item>a.link');
  assert.equal(sel(ul), 'main#content>div.card.featured>ul');
  assert.equal(sel(main), 'main#content');
  assert.equal(sel(el('button', {}, body)), 'body>button');
  assert.equal(sel(null), '');
  const long = el('span', { class: 'x'.repeat(300) }, null);
  assert.ok(sel(long).length <= 120);
});

test('text: collapsed, trimmed, max 64 chars, never form values', () => {
  assert.equal(text(el('button', {}, null, '  Buy \n\n now  ')), 'Buy now');
  assert.equal(text(el('p', {}, null, 'a'.repeat(100))).length, 64);
  assert.equal(text(el('input', {}, null, 'secret')), '');
  assert.equal(text(el('textarea', {}, null, 'secret')), '');
  assert.equal(text(el('div', { contenteditable: 'true' }, null, 'draft')), '');
});

test('linkKind: downloads by extension or download attribute, outbound by host', () => {
  const re = extRe(DOWNLOAD_EXT);
  const page = 'https://site.test/docs/';
  assert.equal(linkKind('/files/report.PDF', page, re), '$download');
  assert.equal(linkKind('https://cdn.other.test/a.zip?x=1', page, re), '$download');
  assert.equal(linkKind('/export', page, re, true), '$download');
  assert.equal(linkKind('https://other.test/page', page, re), '$outbound');
  assert.equal(linkKind('http://sub.site.test/', page, re), '$outbound');
  assert.equal(linkKind('/about', page, re), '');
  assert.equal(linkKind('https://site.test/x.html#pdf', page, re), '');
  assert.equal(linkKind('mailto:a@b.test', page, re), '');
  assert.equal(linkKind('javascript:void(0)', page, re), '');
  assert.equal(linkKind('/a.pdfx', page, re), '');
  const custom = extRe('foo, .bar');
  assert.equal(linkKind('/x.bar', page, custom), '$download');
  assert.equal(linkKind('/x.pdf', page, custom), '');
});

test('rage clicks: 3 clicks within 1 s and 30 px fire once per burst', () => {
  const r = rageDetector();
  assert.equal(r(0, 100, 100), false);
  assert.equal(r(300, 110, 105), false);
  assert.equal(r(600, 95, 120), true, 'third click');
  assert.equal(r(700, 100, 100), false, 'same burst: no second event');
  assert.equal(r(800, 100, 100), false);

  const slow = rageDetector();
  assert.equal(slow(0, 0, 0), false);
  assert.equal(slow(600, 0, 0), false);
  assert.equal(slow(1200, 0, 0), false, 'first click is older than 1 s');
  assert.equal(slow(1300, 0, 0), true, 'clicks at 600, 1200, 1300');

  const far = rageDetector();
  assert.equal(far(0, 0, 0), false);
  assert.equal(far(100, 40, 0), false);
  assert.equal(far(200, 80, 0), false, 'each click more than 30 px from the others');

  const again = rageDetector();
  [0, 100, 200].forEach((t) => again(t, 0, 0));
  assert.equal(again(5000, 0, 0), false);
  assert.equal(again(5100, 0, 0), false);
  assert.equal(again(5200, 0, 0), true, 'a new burst fires again');
});

test('scroll depth: percent of the document seen, integer 0-100, and px', () => {
  assert.deepEqual(depth(0, 800, 4000), { depth: 20, px: 800 });
  assert.deepEqual(depth(1200.6, 800, 4000), { depth: 50, px: 2001 });
  assert.deepEqual(depth(3200, 800, 4000), { depth: 100, px: 4000 });
  assert.deepEqual(depth(5000, 800, 4000), { depth: 100, px: 5800 }, 'overscroll capped at 100');
  assert.deepEqual(depth(0, 800, 0), { depth: 100, px: 800 });
});

test('isFixed: target or an ancestor with position fixed/sticky', () => {
  const body = el('body');
  const nav = el('nav', { pos: 'sticky' }, body);
  const a = el('a', {}, nav);
  const p = el('p', {}, body);
  const pos = (e: El) => e.getAttribute('pos') || 'static';
  assert.equal(isFixed(a, pos), true);
  assert.equal(isFixed(p, pos), false);
  assert.equal(isFixed(el('div', { pos: 'fixed' }), pos), true);
});
