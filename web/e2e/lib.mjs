/**
 * What the Chromium drivers of the staff app share (app.mjs, story.mjs):
 * a real `northstar serve` on a fresh data folder, the real CLI, Chromium
 * with the project's flags, a watch on every request and console error, and
 * axe-core at a phone width. Everything started is stopped by `cleanup()`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
export const BIN = process.env.NORTHSTAR_BIN ?? join(REPO, 'target', 'release', 'northstar');
export const CHROMIUM = '/usr/bin/chromium';
export const STEP_TIMEOUT_MS = 60_000;

/** A failure of what is being tested (as opposed to a bug of the driver). */
export class Failure extends Error {}

const run = promisify(execFile);
const cleanups = [];

/** Stop and remove everything this process started, newest first. */
export async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) {
    try {
      await step();
    } catch {
      // best effort: the rest still runs
    }
  }
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** `northstar serve` on a fresh data folder; resolves with its URL once /healthz answers. */
export async function startNorthstar(extraArgs = []) {
  if (!existsSync(BIN)) throw new Failure(`no northstar binary at ${BIN} (build it, or set NORTHSTAR_BIN)`);
  const data = tempDir('ns-e2e-data-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(BIN, ['serve', '--data-dir', data, '--listen', `127.0.0.1:${port}`, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const until = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Failure(`northstar serve exited with ${child.exitCode}: ${log.join('').slice(-2000)}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, data, log };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Failure(`northstar serve did not answer ${url}/healthz within ${STEP_TIMEOUT_MS / 1000} s`);
}

/** One CLI command with `--json`, as a member with their own profile folder. */
export async function cli(server, profile, passphrase, args) {
  try {
    const { stdout } = await run(BIN, ['--json', ...args], {
      env: { ...process.env, NORTHSTAR_SERVER: server, NORTHSTAR_PROFILE: profile, NORTHSTAR_PASSPHRASE: passphrase },
      timeout: 120_000,
    });
    return JSON.parse(stdout);
  } catch (error) {
    throw new Failure(`northstar ${args.join(' ')} failed: ${error.stderr || error.message}`);
  }
}

export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  cleanups.push(() => browser.close());
  return browser;
}

/**
 * Record what a page does: every request (and whether it left `origin`),
 * every session token it sent, every console error (a CSP violation is one)
 * and every uncaught exception.
 */
export function watch(page, origin) {
  const seen = { requests: [], foreign: [], consoleErrors: [], tokens: new Set() };
  page.on('request', (request) => {
    const url = request.url();
    seen.requests.push(url);
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) seen.foreign.push(url);
    const auth = request.headers().authorization;
    if (auth?.startsWith('Bearer ')) seen.tokens.add(auth.slice(7));
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const where = message.location().url;
    if (where && new URL(where).pathname === '/favicon.ico') return;
    // Chromium logs every HTTP error answer as "Failed to load resource". For
    // the API those are answers the app reads and handles (the desk's 404 at
    // setup, before it exists); a page asset that fails to load still counts.
    if (where && new URL(where).pathname.startsWith('/api/') && message.text().startsWith('Failed to load resource')) return;
    seen.consoleErrors.push(where ? `${message.text()} (${where})` : message.text());
  });
  page.on('pageerror', (error) => seen.consoleErrors.push(`uncaught: ${error.message}`));
  return seen;
}

export async function text(page, selector) {
  return ((await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => '')) ?? '').trim();
}

let axeSource;
/**
 * axe-core on what `page` shows now. axe has to be injected as a script,
 * which the app's policy refuses, so the page must come from a context made
 * with `bypassCSP: true` used for nothing but these checks. Returns the
 * violations split into blocking (serious, critical) and minor, and whether
 * the page scrolls sideways.
 */
export async function axe(page, where) {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const out = { where, blocking: [], minor: [] };
  for (const v of results.violations) {
    const item = { where, id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) };
    (v.impact === 'serious' || v.impact === 'critical' ? out.blocking : out.minor).push(item);
  }
  out.sideways = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
  return out;
}

export function describeViolations(list) {
  return list.map((v) => `  - ${v.where}: ${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`).join('\n');
}

/**
 * Everything the page's origin keeps in IndexedDB, read back untouched:
 * how many records, how long the reading took (ms), and every stored value
 * as text (byte arrays as Latin-1, so any plaintext in them shows).
 */
export function readIndexedDb(page) {
  return page.evaluate(async () => {
    const text = [];
    const walk = (v) => {
      if (v instanceof Uint8Array || v instanceof ArrayBuffer) text.push(new TextDecoder('latin1').decode(v));
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
      else text.push(String(v));
    };
    let rows = 0;
    let ms = 0;
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((ok, fail) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => ok(open.result);
        open.onerror = () => fail(open.error);
      });
      for (const store of db.objectStoreNames) {
        const started = performance.now();
        const all = await new Promise((ok, fail) => {
          const req = db.transaction(store).objectStore(store).getAll();
          req.onsuccess = () => ok(req.result);
          req.onerror = () => fail(req.error);
        });
        ms += performance.now() - started;
        rows += all.length;
        walk(all);
      }
      db.close();
    }
    return { rows, ms, text: text.join('\n') };
  });
}

export async function screenshot(page, dir, name) {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Run `main`, print its result as one JSON line, clean up, and exit 0 or 1 (the reason on stderr). */
export async function runDriver(name, main) {
  let status = 0;
  try {
    const result = await main();
    process.stdout.write(`${JSON.stringify({ ok: true, ...result })}\n`);
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Failure ? error.message : (error?.stack ?? String(error))}\n`);
    status = 1;
  } finally {
    await cleanup();
  }
  process.exit(status);
}
