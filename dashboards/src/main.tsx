import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, ApiError, Me, ProjectAccess, query, setCsrf } from './api';
import { applyLang, dictionaries, formatDate, formatNumber, initialLang, Key, Lang } from './i18n';
import { cards, Cards, funnelQuestion, pick, PURCHASE_EVENTS, LEAD_EVENTS, rangeOf, trendsQuestion, webQuestion } from './overview';
import { RangePicker } from './range';

type T = (key: Key) => string;
interface Ctx { t: T; lang: Lang; project: ProjectAccess }

function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/overview');
  useEffect(() => {
    const on = () => setRoute(location.hash.slice(1) || '/overview');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang());
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [projectId, setProjectId] = useState<number | null>(null);
  const route = useRoute();
  const t: T = (key) => dictionaries[lang][key];
  useEffect(() => applyLang(lang), [lang]);
  useEffect(() => {
    api<Me>('GET', '/api/auth/me').then((m) => { setCsrf(m.csrf_token); setMe(m); }).catch(() => setMe(null));
  }, []);
  const toggle = <button class="lang" data-testid="lang" onClick={() => setLang(lang === 'en' ? 'ar' : 'en')}>{t('language')}</button>;
  if (me === undefined) return <div class="center">{t('loading')}</div>;
  if (me === null) return <Login t={t} toggle={toggle} onIn={(m) => { setCsrf(m.csrf_token); setMe(m); }} />;
  const project = me.projects.find((p) => p.id === projectId) ?? me.projects[0];
  const signOut = async () => { await api('POST', '/api/auth/logout').catch(() => {}); setMe(null); };
  const nav: [string, Key][] = [['/overview', 'overview'], ['/realtime', 'realtime'], ['/install', 'installation'], ['/admin/users', 'users'], ['/admin/keys', 'keys'], ['/admin/settings', 'settings']];
  const ctx = project ? { t, lang, project } : null;
  return (
    <div class="shell">
      <header>
        <div class="brand"><b>{t('brand')}</b> <span>{t('tagline')}</span></div>
        {me.projects.length > 1 && (
          <select aria-label={t('project')} value={project?.id} onChange={(e) => setProjectId(Number((e.target as HTMLSelectElement).value))}>
            {me.projects.map((p) => <option value={p.id}>{p.name}</option>)}
          </select>
        )}
        {me.projects.length === 1 && <span class="project" data-value>{project?.name}</span>}
        <span class="grow" />
        <span class="user" data-value>{me.user.email}</span>
        {toggle}
        <button onClick={signOut} data-testid="signout">{t('signOut')}</button>
      </header>
      <nav>{nav.map(([href, key]) => <a href={'#' + href} class={route === href ? 'on' : ''}>{t(key)}</a>)}</nav>
      <main>
        {!ctx ? <Empty t={t} body={t('noProjects')} /> :
          route === '/realtime' ? <Realtime {...ctx} /> :
          route === '/install' ? <Install {...ctx} /> :
          route.startsWith('/admin/') ? (project.role !== 'admin' ? <NotAllowed t={t} /> :
            route === '/admin/users' ? <Users {...ctx} /> : route === '/admin/keys' ? <Keys {...ctx} /> : <Settings {...ctx} />) :
          <Overview {...ctx} />}
      </main>
    </div>
  );
}

function Login({ t, toggle, onIn }: { t: T; toggle: any; onIn: (m: Me) => void }) {
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    try {
      onIn(await api<Me>('POST', '/api/auth/login', { email: form.get('email'), password: form.get('password') }));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? t('tooMany') : t('signInFailed'));
    }
  };
  return (
    <div class="login">
      <form onSubmit={submit}>
        <h1>{t('brand')}</h1>
        <p>{t('tagline')}</p>
        <label>{t('email')}<input name="email" type="email" autocomplete="username" required /></label>
        <label>{t('password')}<input name="password" type="password" autocomplete="current-password" required /></label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit">{t('signIn')}</button>
        {toggle}
      </form>
    </div>
  );
}

function Empty({ t, body }: { t: T; body: string }) {
  return <div class="empty"><h2>{t('emptyTitle')}</h2><p>{body}</p><p><code dir="ltr" data-value>numu demo</code></p><a href="#/install">{t('goInstall')}</a></div>;
}

function NotAllowed({ t }: { t: T }) {
  return <div class="empty" data-testid="not-allowed"><h2>{t('notAllowed')}</h2><p>{t('notAllowedBody')}</p></div>;
}

function pct(lang: Lang, v: number) { return formatNumber(lang, v, { style: 'percent', maximumFractionDigits: 1 }); }

function Change({ ctx, card }: { ctx: Ctx; card: { value: number; previous: number | null } }) {
  if (card.previous == null || card.previous === 0) return <small class="muted">{ctx.t('noChange')}</small>;
  const change = (card.value - card.previous) / card.previous;
  return <small class={change >= 0 ? 'up' : 'down'}>{(change >= 0 ? '▲ ' : '▼ ') + pct(ctx.lang, Math.abs(change))} {ctx.t('vsPrevious')}</small>;
}

function Overview(ctx: Ctx) {
  const { t, lang, project } = ctx;
  const [choice, setChoice] = useState(sessionStorage.getItem('numu.range') ?? '-7d');
  const [compare, setCompare] = useState(true);
  const [data, setData] = useState<{ web: any; trends: any; funnel: any; cards: Cards } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    // Questions of a range left before they answer are aborted: the server stops them.
    const asking = new AbortController();
    const ask = (question: unknown) => query(project.id, question, asking.signal);
    setData(null); setError('');
    sessionStorage.setItem('numu.range', choice);
    const range = rangeOf(choice);
    (async () => {
      // The funnel's steps come from trends; it starts as soon as trends answers, beside web analytics.
      const trendsAnswer = ask(trendsQuestion(range, compare));
      const funnelAnswer = trendsAnswer.then((tr) => ask(funnelQuestion(range, pick(tr, 'lead', LEAD_EVENTS), pick(tr, 'purchase', PURCHASE_EVENTS))));
      const [web, trends, funnel] = await Promise.all([ask(webQuestion(range, compare)), trendsAnswer, funnelAnswer]);
      if (live) setData({ web, trends, funnel, cards: cards(web, trends) });
    })().catch((e) => live && setError(String(e.message ?? e)));
    return () => { live = false; asking.abort(); };
  }, [project.id, choice, compare]);
  const money = (v: number) => formatNumber(lang, v, { maximumFractionDigits: 0 });
  return (
    <section data-testid="overview">
      <div class="toolbar">
        <RangePicker t={t} choice={choice} onChoice={setChoice} />
        <label class="inline"><input type="checkbox" checked={compare} onChange={(e) => setCompare((e.target as HTMLInputElement).checked)} /> {t('compare')}</label>
        <LiveNow {...ctx} />
      </div>
      {error && <p class="error">{t('error')}: <span data-value>{error}</span></p>}
      {!data && !error && <p>{t('loading')}</p>}
      {data && data.cards.visitors.value === 0 && <Empty t={t} body={t('emptyBody')} />}
      {data && data.cards.visitors.value > 0 && (
        <>
          <div class="cards">
            <div class="card" data-metric="visitors"><h3>{t('visitors')}</h3><strong data-raw={data.cards.visitors.value} data-previous={data.cards.visitors.previous ?? ''}>{formatNumber(lang, data.cards.visitors.value)}</strong><Change ctx={ctx} card={data.cards.visitors} /></div>
            <div class="card" data-metric="conversion"><h3>{t('conversionRate')}</h3><strong data-raw={data.cards.conversion.value}>{pct(lang, data.cards.conversion.value)}</strong><Change ctx={ctx} card={data.cards.conversion} /></div>
            <div class="card" data-metric="leads"><h3>{t('leads')}</h3><strong data-raw={data.cards.leads.value}>{formatNumber(lang, data.cards.leads.value)}</strong><Change ctx={ctx} card={data.cards.leads} /></div>
            <div class="card" data-metric="revenue"><h3>{t('revenue')}</h3><strong data-raw={data.cards.revenue.value}>{money(data.cards.revenue.value)}</strong><Change ctx={ctx} card={data.cards.revenue} /></div>
          </div>
          <div class="panel"><h3>{t('visitorsOverTime')}</h3><Chart ctx={ctx} web={data.web} /></div>
          <div class="grid2">
            <div class="panel"><h3>{t('mainFunnel')}</h3><Funnel ctx={ctx} funnel={data.funnel} /></div>
            <div class="panel"><h3>{t('topChannels')}</h3><Report ctx={ctx} rows={data.web.reports.channels} head={t('channel')} /></div>
            <div class="panel"><h3>{t('topCampaigns')}</h3><Report ctx={ctx} rows={data.web.reports.utm_campaigns} head={t('campaign')} /></div>
          </div>
        </>
      )}
    </section>
  );
}

function Chart({ ctx, web }: { ctx: Ctx; web: any }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const lang = ctx.lang;
    const buckets: string[] = web.timeseries.buckets;
    const xs = buckets.map((b) => Date.parse(b.length === 10 ? b + 'T00:00:00Z' : b) / 1000);
    const prev = web.previous_timeseries?.visitors ?? [];
    const series: uPlot.Series[] = [{ label: ctx.t('date'), value: (_u, v) => (v == null ? '—' : formatDate(lang, v * 1000, { month: 'short', day: 'numeric', timeZone: 'UTC' })) }, { label: ctx.t('visitors'), stroke: '#0f766e', fill: 'rgba(15,118,110,.12)', width: 2, value: (_u, v) => (v == null ? '—' : formatNumber(lang, v)) }];
    const data: uPlot.AlignedData = [xs, web.timeseries.visitors];
    if (prev.length) { series.push({ label: ctx.t('previousPeriod'), stroke: '#94a3b8', dash: [4, 4], width: 1.5, value: (_u, v) => (v == null ? '—' : formatNumber(lang, v)) }); (data as any).push(xs.map((_, i) => prev[i] ?? null)); }
    const plot = new uPlot({
      width: el.current.clientWidth || 800, height: 240, series, legend: { show: true },
      axes: [
        { space: 70, incrs: [86400, 7 * 86400, 30 * 86400], values: (_u, vals) => vals.map((v) => formatDate(lang, v * 1000, { month: 'short', day: 'numeric', timeZone: 'UTC' })) },
        { values: (_u, vals) => vals.map((v) => formatNumber(lang, v)) },
      ],
      scales: { x: { time: true } },
    }, data, el.current);
    el.current.dataset.drawn = '1';
    return () => plot.destroy();
  }, [web, ctx.lang]);
  return <div ref={el} class="chart" data-testid="visitors-chart" />;
}

function Funnel({ ctx, funnel }: { ctx: Ctx; funnel: any }) {
  const steps = funnel.steps?.[0]?.steps ?? [];
  const first = steps[0]?.count || 1;
  const label = (i: number) => [ctx.t('visitors'), ctx.t('leads'), ctx.t('purchases')][i] ?? ctx.t('funnelStep');
  return (
    <div class="funnel" data-testid="funnel">
      {steps.map((s: any, i: number) => (
        <div class="step"><span>{formatNumber(ctx.lang, i + 1)}. {label(i)}</span>
          <div class="bar"><i style={{ width: `${(100 * s.count) / first}%` }} /></div>
          <b>{formatNumber(ctx.lang, s.count)}</b> <small>{pct(ctx.lang, s.conversion_rate ?? 0)}</small></div>
      ))}
    </div>
  );
}

function Report({ ctx, rows, head }: { ctx: Ctx; rows: any[]; head: string }) {
  if (!rows?.length) return <p class="muted">{ctx.t('emptyTitle')}</p>;
  return (
    <table><thead><tr><th>{head}</th><th>{ctx.t('visitors')}</th></tr></thead>
      <tbody>{rows.map((r) => <tr><td data-value>{r.value || ctx.t('none')}</td><td>{formatNumber(ctx.lang, r.visitors)}</td></tr>)}</tbody></table>
  );
}

function useRealtime(projectId: number): [any, boolean] {
  const [snap, setSnap] = useState<any>(null);
  const [up, setUp] = useState(false);
  useEffect(() => {
    const source = new EventSource(`/api/projects/${projectId}/realtime/stream`, { withCredentials: true });
    source.onmessage = (e) => { setUp(true); setSnap(JSON.parse(e.data)); };
    source.onerror = () => setUp(false);
    return () => source.close();
  }, [projectId]);
  return [snap, up];
}

function LiveNow(ctx: Ctx) {
  const [snap, up] = useRealtime(ctx.project.id);
  const now = snap?.visitors?.[0]?.estimate ?? 0;
  return <span class="live" data-testid="live-now"><i class={up ? 'dot on' : 'dot'} /> {ctx.t('liveVisitors')}: <b>{formatNumber(ctx.lang, now)}</b> <small>{ctx.t('lastMinutes')}</small></span>;
}

function Realtime(ctx: Ctx) {
  const { t, lang } = ctx;
  const [snap, up] = useRealtime(ctx.project.id);
  const top = (list: any, head: string) => (
    <table><thead><tr><th>{head}</th><th>{t('count')}</th></tr></thead>
      <tbody>{(list?.items ?? []).map((r: any) => <tr><td data-value>{r.key}</td><td>{formatNumber(lang, r.count)}</td></tr>)}</tbody></table>
  );
  const epm: any[] = snap?.events_per_minute ?? [];
  const max = Math.max(1, ...epm.map((m) => m.events));
  return (
    <section data-testid="realtime">
      <div class="cards">
        {(snap?.visitors ?? [{ minutes: 5, estimate: 0 }]).map((v: any) => (
          <div class="card"><h3>{t('liveVisitors')} ({formatNumber(lang, v.minutes)}′)</h3><strong>{formatNumber(lang, v.estimate)}</strong><small>{up ? t('connected') : t('disconnected')}</small></div>
        ))}
      </div>
      <div class="panel"><h3>{t('eventsPerMinute')}</h3><div class="bars">{epm.map((m) => <i style={{ height: `${(100 * m.events) / max}%` }} title={String(m.events)} />)}</div></div>
      <div class="grid2">
        <div class="panel"><h3>{t('topPages')}</h3>{top(snap?.top_pages, t('page'))}</div>
        <div class="panel"><h3>{t('topSources')}</h3>{top(snap?.top_sources, t('source'))}</div>
        <div class="panel"><h3>{t('topEvents')}</h3>{top(snap?.top_events, t('event'))}</div>
      </div>
    </section>
  );
}

function Install(ctx: Ctx) {
  const { t, lang, project } = ctx;
  const tag = `<script defer src="${location.origin}/numu.js" data-key="${project.write_key}"></script>`;
  const [copied, setCopied] = useState(false);
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    const check = () => api('GET', `/api/projects/${project.id}/events?count_only=true`).then((a) => live && setCount(a.count)).catch(() => {});
    check();
    const timer = setInterval(check, 3000);
    return () => { live = false; clearInterval(timer); };
  }, [project.id]);
  return (
    <section data-testid="install">
      <div class="panel">
        <h3>{t('installation')}</h3>
        <p>{t('installIntro')}</p>
        <pre class="snippet" dir="ltr" data-value>{tag}</pre>
        <button onClick={() => { navigator.clipboard?.writeText(tag).catch(() => {}); setCopied(true); }}>{copied ? t('copied') : t('copy')}</button>
      </div>
      <div class="panel" data-testid="install-check">
        <h3>{t('checkTitle')}</h3>
        {count ? <p class="up">✔ {t('firstEvent')}: {formatNumber(lang, count)} {t('eventsReceived')}</p> : <p class="muted">{t('waiting')}</p>}
      </div>
    </section>
  );
}

const ROLES: ['viewer' | 'analyst' | 'admin', Key][] = [['viewer', 'viewer'], ['analyst', 'analyst'], ['admin', 'adminRole']];

function Users(ctx: Ctx) {
  const { t, project } = ctx;
  const [users, setUsers] = useState<any[]>([]);
  const base = `/api/projects/${project.id}/admin/users`;
  const load = () => api('GET', base).then((a) => setUsers(a.users));
  useEffect(() => { load(); }, [project.id]);
  const add = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    await api('POST', base, { email: f.get('email'), password: f.get('password') || undefined, role: f.get('role') });
    (e.target as HTMLFormElement).reset(); load();
  };
  return (
    <section data-testid="users" class="panel">
      <h3>{t('users')}</h3>
      <table><thead><tr><th>{t('email')}</th><th>{t('role')}</th><th /></tr></thead>
        <tbody>{users.map((u) => (
          <tr><td data-value>{u.email}</td>
            <td><select value={u.role} onChange={(e) => api('PUT', `${base}/${u.user_id}`, { role: (e.target as HTMLSelectElement).value }).then(load)}>
              {ROLES.map(([v, k]) => <option value={v}>{t(k)}</option>)}</select></td>
            <td><button onClick={() => api('DELETE', `${base}/${u.user_id}`).then(load)}>{t('remove')}</button></td></tr>
        ))}</tbody></table>
      <form class="row" onSubmit={add}>
        <input name="email" type="email" placeholder={t('email')} required />
        <input name="password" type="password" placeholder={t('newPassword')} />
        <select name="role">{ROLES.map(([v, k]) => <option value={v}>{t(k)}</option>)}</select>
        <button type="submit">{t('add')}</button>
      </form>
    </section>
  );
}

function Keys(ctx: Ctx) {
  const { t, lang, project } = ctx;
  const [keys, setKeys] = useState<any[]>([]);
  const [secret, setSecret] = useState('');
  const base = `/api/projects/${project.id}/admin/keys`;
  const load = () => api('GET', base).then((a) => setKeys(a.keys));
  useEffect(() => { load(); }, [project.id]);
  const create = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const made = await api('POST', base, { name: f.get('name'), scopes: [f.get('scope')] });
    setSecret(made.secret_key); (e.target as HTMLFormElement).reset(); load();
  };
  return (
    <section data-testid="keys" class="panel">
      <h3>{t('keys')}</h3>
      {secret && <p class="secret">{t('showOnce')} <code dir="ltr" data-value data-testid="new-secret">{secret}</code></p>}
      <table><thead><tr><th>{t('name')}</th><th>{t('prefix')}</th><th>{t('scopes')}</th><th>{t('created')}</th><th>{t('status')}</th><th /></tr></thead>
        <tbody>{keys.map((k) => (
          <tr><td data-value>{k.name}</td><td dir="ltr" data-value>{k.prefix}…</td>
            <td>{k.scopes.map((s: string) => t(s === 'admin' ? 'adminRole' : (s as Key))).join('، ')}</td>
            <td>{formatDate(lang, Date.parse(k.created_at))}</td>
            <td>{k.revoked ? t('revoked') : t('active')}</td>
            <td>{!k.revoked && <button onClick={() => api('DELETE', `${base}/${k.id}`).then(load)}>{t('revoke')}</button>}</td></tr>
        ))}</tbody></table>
      <form class="row" onSubmit={create}>
        <input name="name" placeholder={t('name')} required />
        <select name="scope"><option value="read">{t('read')}</option><option value="write">{t('write')}</option><option value="admin">{t('adminRole')}</option></select>
        <button type="submit">{t('createKey')}</button>
      </form>
    </section>
  );
}

function Settings(ctx: Ctx) {
  const { t, project } = ctx;
  const [settings, setSettings] = useState<any>(null);
  const [saved, setSaved] = useState(false);
  const base = `/api/projects/${project.id}/admin/settings`;
  useEffect(() => { api('GET', base).then(setSettings); }, [project.id]);
  if (!settings) return <p>{t('loading')}</p>;
  const save = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const origins = String(f.get('origins') ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
    setSettings(await api('PUT', base, { name: f.get('name'), allowed_origins: origins, write_key_disabled: f.get('disabled') === 'on' }));
    setSaved(true);
  };
  return (
    <section data-testid="settings" class="panel">
      <h3>{t('settings')}</h3>
      <form class="col" onSubmit={save}>
        <label>{t('name')}<input name="name" value={settings.name} required /></label>
        <label>{t('writeKey')}<code dir="ltr" data-value>{settings.write_key}</code></label>
        <label>{t('allowedOrigins')}<textarea name="origins" dir="ltr">{settings.allowed_origins.join('\n')}</textarea></label>
        <label class="inline"><input type="checkbox" name="disabled" checked={settings.write_key_disabled} /> {t('writeKeyDisabled')}</label>
        <button type="submit">{t('save')}</button> {saved && <span class="up">{t('saved')}</span>}
      </form>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
