// Starts a real `numu serve` on 127.0.0.1:0 with a fresh data directory, a project, the
// built snippet and the e2e pages (served by numu at /site/), and Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
const numuBin = process.env.NUMU_BIN || path.join(repo, 'target/debug/numu');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

function numuEnv(extra = {}) {
  return {
    ...process.env,
    NUMU_WAREHOUSE__EMBEDDED__PYTHON: path.join(repo, '.venv/bin/python3'),
    NUMU_LOG_FORMAT: 'json',
    ...extra,
  };
}

export async function startStack(options = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'numu-e2e-'));
  const data = path.join(dir, 'data');
  const created = JSON.parse(
    execFileSync(numuBin, ['--data-dir', data, 'project', 'create', '--name', 'E2E', '--json'], {
      env: numuEnv(),
    }).toString(),
  );
  const site = path.join(dir, 'site');
  mkdirSync(site);
  for (const page of readdirSync(path.join(here, 'pages'))) {
    const html = readFileSync(path.join(here, 'pages', page), 'utf8').replaceAll('__WRITE_KEY__', created.write_key);
    writeFileSync(path.join(site, page), html);
  }
  const server = spawn(numuBin, ['--data-dir', data, 'serve', '--listen', '127.0.0.1:0'], {
    env: numuEnv({ NUMU_SITE__DIR: site, NUMU_SNIPPET__DIR: path.join(repo, 'sdk-js/dist') }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('numu serve did not start in 60 s')), 60_000);
    const lines = readline.createInterface({ input: server.stderr });
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line);
        if (event.message === 'listening') {
          clearTimeout(timer);
          resolve(`http://${event.address}`);
        }
      } catch {
        process.stderr.write(`${line}\n`);
      }
    });
    server.on('exit', (code) => reject(new Error(`numu serve exited with ${code}`)));
  });
  const browser = options.browser === false ? null : await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const projectId = created.project.id;
  const secret = created.secret_key;
  return {
    base,
    browser,
    projectId,
    async events(query = '') {
      const response = await fetch(`${base}/api/projects/${projectId}/events?limit=1000${query}`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      if (!response.ok) throw new Error(`read endpoint: ${response.status} ${await response.text()}`);
      return (await response.json()).events;
    },
    /** Polls the read endpoint until `predicate` holds for some event, or fails after `ms`. */
    async waitFor(predicate, ms = 15_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = (await this.events()).filter(predicate);
        if (found.length > 0) return found;
        if (Date.now() > deadline) return [];
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    secret,
    writeKey: created.write_key,
    /** POSTs a question to the query API. */
    async query(body) {
      const response = await fetch(`${base}/api/projects/${projectId}/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`query: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async stop() {
      await browser?.close();
      server.kill('SIGTERM');
    },
  };
}

/** A fresh token that marks one test's events. */
export function runId(name) {
  return `${name}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
}

/** A property value as stored (non-string JSON values are kept as JSON text). */
export function prop(event, key) {
  return event.properties ? event.properties[key] : undefined;
}
