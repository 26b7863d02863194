// Starts a real `numu serve` on 127.0.0.1:0 with a fresh data directory and the built
// dashboard, loads small demo data through it (`numu demo`), creates an admin and a viewer
// (`numu user create`), and launches Debian's Chromium (as sdk-js/e2e/harness.mjs does).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const artifacts = path.join(repo, 'test-artifacts/dashboard');
const numuBin = process.env.NUMU_BIN || path.join(repo, 'target/debug/numu');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };
export const VIEWER = { email: 'viewer@example.com', password: 'viewer-password-1' };

function numuEnv(extra = {}) {
  return { ...process.env, NUMU_WAREHOUSE__EMBEDDED__PYTHON: path.join(repo, '.venv/bin/python3'), NUMU_LOG_FORMAT: 'json', ...extra };
}

export async function startStack({ demo = true } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'numu-dash-'));
  const data = path.join(dir, 'data');
  const numu = (args, extra) => execFileSync(numuBin, ['--data-dir', data, ...args], { env: numuEnv(extra) }).toString();
  const server = spawn(numuBin, ['--data-dir', data, 'serve', '--listen', '127.0.0.1:0'], {
    env: numuEnv({ NUMU_DASHBOARD__DIR: path.join(repo, 'dashboards/dist'), NUMU_SNIPPET__DIR: path.join(repo, 'sdk-js/dist') }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('numu serve did not start in 60 s')), 60_000);
    readline.createInterface({ input: server.stderr }).on('line', (line) => {
      try {
        const event = JSON.parse(line);
        if (event.message === 'listening') { clearTimeout(timer); resolve(`http://${event.address}`); }
      } catch { process.stderr.write(`${line}\n`); }
    });
    server.on('exit', (code) => reject(new Error(`numu serve exited with ${code}`)));
  });
  let projectId;
  let secret;
  if (demo) {
    const summary = JSON.parse(numu(['demo', '--days', '3', '--visitors-per-day', '50', '--url', base, '--json']));
    ({ project_id: projectId, secret_key: secret } = summary);
  } else {
    const created = JSON.parse(numu(['project', 'create', '--name', 'Empty', '--json']));
    projectId = created.project.id;
    secret = created.secret_key;
  }
  numu(['user', 'create', '--email', ADMIN.email, '--project', String(projectId), '--role', 'admin'], { NUMU_USER_PASSWORD: ADMIN.password });
  numu(['user', 'create', '--email', VIEWER.email, '--password', VIEWER.password, '--project', String(projectId), '--role', 'viewer']);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    base, browser, projectId, secret,
    /** POSTs a question to the query API with the project's secret key. */
    async query(body) {
      const response = await fetch(`${base}/api/projects/${projectId}/query`, {
        method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`query: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async stop() { await browser.close(); server.kill('SIGTERM'); },
  };
}

/** A signed-in page (fresh context, English unless `lang`). */
export async function signIn(stack, user, lang = 'en') {
  const context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript((l) => { if (!sessionStorage.getItem('numu.init')) { localStorage.setItem('numu.lang', l); sessionStorage.setItem('numu.init', '1'); } }, lang);
  await page.goto(`${stack.base}/`);
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('nav');
  return page;
}

/** Saves a full-page screenshot and checks it is not blank (many distinct colours). */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(path.join(artifacts, `${name}.png`), png);
  const colours = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width; canvas.height = img.height;
    const g = canvas.getContext('2d');
    g.drawImage(img, 0, 0);
    const pixels = g.getImageData(0, 0, img.width, img.height).data;
    const seen = new Set();
    for (let i = 0; i < pixels.length; i += 4 * 7) seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    return seen.size;
  }, png.toString('base64'));
  return { bytes: png.length, colours };
}

/** Visible text outside data values (emails, URLs, keys, page paths, event names, channel
 * and campaign values, the `numu demo` command) and input placeholders with a Latin letter. */
export async function latinText(page) {
  return page.evaluate(() => {
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || el.closest('[data-value], script, style')) continue;
      if (el.closest('select') && !el.closest('option')) continue;
      if (el.closest('option') && el.closest('select')?.getAttribute('aria-label') != null) continue; // project names
      if (!el.checkVisibility?.() && !el.closest('option')) continue;
      if (/[A-Za-z]/.test(node.textContent)) found.push(node.textContent.trim());
    }
    for (const input of document.querySelectorAll('input[placeholder]')) if (/[A-Za-z]/.test(input.placeholder)) found.push(input.placeholder);
    return found;
  });
}
