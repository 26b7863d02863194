// The overview's questions to the query API, and how its numbers are derived from the
// answers. Shared with the browser tests (they ask the API the same questions).

export const LEAD_EVENTS = ['signup', 'Signed Up'];
export const PURCHASE_EVENTS = ['purchase', 'Order Completed'];

export interface Range { from: string; to?: string }

/** The date picker's choice as stored: a preset (`-7d`, `today`) or `FROM..TO` (dates, both
 * days included — the query API reads a date as `to` as its whole day). The comparison
 * period is the API's: the same length just before. */
export function rangeOf(choice: string): Range {
  const custom = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(choice);
  return custom ? { from: custom[1], to: custom[2] } : { from: choice };
}

/** A custom choice, or null when the dates are missing or out of order. */
export function customChoice(from: string, to: string): string | null {
  const date = /^\d{4}-\d{2}-\d{2}$/;
  return date.test(from) && date.test(to) && from <= to ? `${from}..${to}` : null;
}

/** The UTC date `days` before today (the dashboard asks in UTC). */
export function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

export function webQuestion(range: Range, compare: boolean) {
  // Only the reports the page shows: each one costs the query a pass over the sessions.
  return { kind: 'web_analytics', date_range: range, interval: 'day', compare, limit: 5, reports: ['channels', 'utm_campaigns'] };
}

export function trendsQuestion(range: Range, compare: boolean) {
  const inEvents = (names: string[]) => [{ property: 'event', operator: 'in', value: names }];
  return {
    kind: 'trends', date_range: range, interval: 'day', compare,
    series: [
      { math: 'unique_people', filters: inEvents(LEAD_EVENTS), label: 'leads' },
      { math: 'unique_people', filters: inEvents(PURCHASE_EVENTS), label: 'buyers' },
      { math: 'sum', property: 'revenue', filters: inEvents(PURCHASE_EVENTS), label: 'revenue' },
      ...LEAD_EVENTS.map((event) => ({ event, label: `lead:${event}` })),
      ...PURCHASE_EVENTS.map((event) => ({ event, label: `purchase:${event}` })),
    ],
  };
}

export function funnelQuestion(range: Range, lead: string, purchase: string) {
  return {
    kind: 'funnel', date_range: range,
    steps: [{ event: '$pageview' }, { event: lead }, { event: purchase }],
    conversion_window: { value: 14, unit: 'day' },
  };
}

export interface Card { value: number; previous: number | null }
export interface Cards { visitors: Card; conversion: Card; leads: Card; revenue: Card }

export function cards(web: any, trends: any): Cards {
  const series = (label: string) => trends.series.find((s: any) => s.label === label);
  const total = (label: string) => Number(series(label)?.total ?? 0);
  const prev = (label: string) => (series(label)?.previous ? Number(series(label).previous.total ?? 0) : null);
  const visitors = Number(web.metrics.visitors.value ?? 0);
  const prevVisitors = web.metrics.visitors.previous == null ? null : Number(web.metrics.visitors.previous);
  const rate = (buyers: number, v: number) => (v > 0 ? buyers / v : 0);
  const prevBuyers = prev('buyers');
  return {
    visitors: { value: visitors, previous: prevVisitors },
    conversion: { value: rate(total('buyers'), visitors), previous: prevBuyers == null || prevVisitors == null ? null : rate(prevBuyers, prevVisitors) },
    leads: { value: total('leads'), previous: prev('leads') },
    revenue: { value: total('revenue'), previous: prev('revenue') },
  };
}

/** The most used of the candidate names (the funnel's steps). */
export function pick(trends: any, prefix: string, names: string[]): string {
  let best = names[0];
  let bestTotal = -1;
  for (const name of names) {
    const t = Number(trends.series.find((s: any) => s.label === `${prefix}:${name}`)?.total ?? 0);
    if (t > bestTotal) { best = name; bestTotal = t; }
  }
  return best;
}
