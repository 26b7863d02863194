// Segment's own Node client (@segment/analytics-node), unchanged, pointed at a real
// `numu serve`: track, identify, page and alias arrive through /v1/batch, and identify +
// alias merge two devices into one person.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import { startStack, runId, prop } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({ browser: false });
});

after(async () => {
  await stack?.stop();
});

test('the Segment Node client works unchanged and devices merge into one person', async () => {
  const run = runId('segment');
  const laptop = `${run}-laptop`;
  const phone = `${run}-phone`;
  const user = `${run}-user`;
  const analytics = new Analytics({ writeKey: stack.writeKey, host: stack.base, flushInterval: 200 });
  const errors = [];
  analytics.on('error', (e) => errors.push(e));
  analytics.page({ anonymousId: laptop, name: 'Home', properties: { run, url: 'https://shop.example/?utm_source=newsletter', path: '/' } });
  analytics.track({ anonymousId: laptop, event: 'Product Viewed', properties: { run, sku: 'A-1', price: 12.5 } });
  analytics.identify({ anonymousId: laptop, userId: user, traits: { plan: 'pro', الاسم: 'سلمى' } });
  analytics.track({ anonymousId: phone, event: 'App Opened', properties: { run } });
  analytics.alias({ userId: user, previousId: phone });
  analytics.track({ userId: user, event: 'Order Completed', properties: { run, revenue: 42 } });
  await analytics.closeAndFlush({ timeout: 10_000 });
  assert.deepEqual(errors, []);

  const landed = await stack.waitFor((e) => e.event === 'Order Completed' && prop(e, 'run') === run);
  assert.equal(landed.length, 1);
  assert.equal(Number(landed[0].revenue), 42);
  const mine = (await stack.events()).filter((e) => [laptop, phone, user].some((id) => e.distinct_id === id || e.anonymous_id === id));
  const names = mine.map((e) => e.event).sort();
  assert.deepEqual(names, ['$create_alias', '$identify', '$pageview', 'App Opened', 'Order Completed', 'Product Viewed']);
  const page = mine.find((e) => e.event === '$pageview');
  assert.equal(page.utm_source, 'newsletter');

  // One person across the laptop, the phone and the user id.
  const person = await stack.query({ kind: 'person', id: phone, order: 'asc', limit: 100 });
  const ids = new Set(person.distinct_ids);
  for (const id of [laptop, phone, user]) assert.ok(ids.has(id), `${id} not in ${[...ids]}`);
  const timeline = person.events.map((e) => e.event);
  for (const name of ['Product Viewed', 'App Opened', 'Order Completed']) assert.ok(timeline.includes(name), timeline.join(','));
  assert.equal(person.properties.plan, 'pro');
});
