#!/usr/bin/env node
/**
 * End-to-end driver of the staff web app in a real Chromium, against a real
 * Northstar server. Run by hand after `cargo build --release`:
 *
 *   node web/e2e/app.mjs [SCREENSHOT_DIR]
 *
 * It starts `northstar serve` on a fresh data folder (the binary is
 * $NORTHSTAR_BIN, else target/release/northstar), founds an organization
 * "Test" with the CLI as ada, then in Chromium, on the app the server itself
 * serves at `/` (embedded in the binary, under its own policy):
 *   1. signs in with a wrong passphrase and expects the sign-in error;
 *   2. signs in as ada and checks that the organization fingerprint words and
 *      the member list (names, roles, fingerprint words) equal what the CLI
 *      printed (`org init --json`, `member list --json`);
 *   3. checks that nothing was stored (localStorage, sessionStorage, cookies,
 *      IndexedDB), that no request left the origin, and that the console shows
 *      no error (a CSP violation is one);
 *   4. presses Lock, expects the sign-in form back, and checks that the
 *      session token the page used is refused by the server afterwards;
 *      signs in again and expects the organization recognised as pinned;
 *   5. runs axe-core on the sign-in and organization pages at a phone
 *      viewport (serious or critical violations fail) and checks that
 *      neither scrolls sideways (SCREENSHOT_DIR/app-signin.png, app-org.png).
 * Prints one JSON line with what it saw. Exit status 0 on success, 1 on any
 * failure (the reason on stderr; SCREENSHOT_DIR/app-failed.png if given).
 * Needs /usr/bin/chromium. Everything it starts is stopped, every temporary
 * folder removed.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const WEB = resolve(HERE, '..');
const REPO = resolve(WEB, '..');
const BIN = process.env.NORTHSTAR_BIN ?? join(REPO, 'target', 'release', 'northstar');
const CHROMIUM = '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 60_000;
const USER = 'ada';
const PASSPHRASE = 'pass-ada-correct horse battery';

class Failure extends Error {}

const screenshotDir = process.argv[2];
const cleanups = [];
const run = promisify(execFile);

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

async function waitForHealth(url, child, log) {
  const until = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Failure(`northstar serve exited with ${child.exitCode}: ${log.join('').slice(-2000)}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Failure(`northstar serve did not answer ${url}/healthz within ${STEP_TIMEOUT_MS / 1000} s`);
}

async function startNorthstar() {
  if (!existsSync(BIN)) throw new Failure(`no northstar binary at ${BIN} (build it, or set NORTHSTAR_BIN)`);
  const data = mkdtempSync(join(tmpdir(), 'ns-e2e-data-'));
  cleanups.push(() => rmSync(data, { recursive: true, force: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(BIN, ['serve', '--data-dir', data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  await waitForHealth(url, child, log);
  return url;
}

async function cli(server, profile, args, passphrase = PASSPHRASE) {
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

function firstLine(error) {
  return String(error?.message ?? error).split('\n')[0];
}

async function text(page, selector) {
  return ((await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => '')) ?? '').trim();
}

/** Sign in and wait for `success`, or fail at once with what the page says in an alert. */
async function signIn(page, passphrase, success) {
  await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.fill('#signin-username', USER);
  // From the keyboard: Tab to the passphrase, type it, Enter submits.
  await page.focus('#signin-username');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (focused !== 'signin-passphrase') throw new Failure(`Tab from the user name went to #${focused}, not to the passphrase`);
  await page.keyboard.type(passphrase);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (selector) => {
      const shown = document.querySelector(selector);
      if (shown && shown.getClientRects().length > 0) return true;
      return !!document.querySelector('#signin-error, #org-error');
    },
    success,
    { timeout: STEP_TIMEOUT_MS },
  );
}

let axeSource;
function axeScript() {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/**
 * axe-core on the sign-in page and on the organization page, at a phone
 * viewport (360×640). axe has to be injected as a script, which the app's CSP
 * refuses; this context, used for nothing but these checks, bypasses the CSP.
 */
async function accessibility(browser, base, shots) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const out = { blocking: [], minor: [], sideways: [] };
  const check = async (where) => {
    await page.addScriptTag({ content: axeScript() });
    const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    for (const v of results.violations) {
      const item = { where, id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) };
      (v.impact === 'serious' || v.impact === 'critical' ? out.blocking : out.minor).push(item);
    }
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
    if (wide) out.sideways.push(where);
    if (shots) {
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, `app-${where}.png`), fullPage: true });
    }
  };
  try {
    await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await check('signin');
    await signIn(page, PASSPHRASE, '#org-fingerprint');
    await check('org');
    await page.click('#lock');
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } finally {
    await context.close();
  }
  return out;
}

async function main() {
  const backend = await startNorthstar();
  const profile = mkdtempSync(join(tmpdir(), 'ns-e2e-profile-'));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  const init = await cli(backend, profile, ['org', 'init', '--org', 'Test', '--user', USER]);
  // A second member with another role: invited by ada, joined as bea, admitted when ada lists the members.
  const invite = await cli(backend, profile, ['invite', '--role', 'caseworker']);
  const profileBea = mkdtempSync(join(tmpdir(), 'ns-e2e-profile-'));
  cleanups.push(() => rmSync(profileBea, { recursive: true, force: true }));
  await cli(backend, profileBea, ['join', '--invite', invite.code, '--user', 'bea'], 'pass-bea-correct horse battery');
  await cli(backend, profile, ['member', 'list']);
  const listed = await cli(backend, profile, ['member', 'list']);
  const cliMembers = (Array.isArray(listed) ? listed : listed.members ?? []).map((m) => ({
    name: m.name,
    role: m.role,
    fingerprint: m.fingerprint.join(' '),
  }));
  if (!Array.isArray(init.fingerprint) || init.fingerprint.length !== 8) throw new Failure(`org init printed no fingerprint: ${JSON.stringify(init)}`);
  const base = backend;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  cleanups.push(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = { requests: [], consoleErrors: [], tokens: new Set() };
  page.on('request', (request) => {
    seen.requests.push(request.url());
    const auth = request.headers().authorization;
    if (auth?.startsWith('Bearer ')) seen.tokens.add(auth.slice(7));
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const where = message.location().url;
    if (where && new URL(where).pathname === '/favicon.ico') return;
    seen.consoleErrors.push(where ? `${message.text()} (${where})` : message.text());
  });
  page.on('pageerror', (error) => seen.consoleErrors.push(`uncaught: ${error.message}`));

  try {
    const response = await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    if (!response?.ok()) throw new Failure(`GET ${base}/ answered HTTP ${response?.status()}`);
    const csp = (await response.allHeaders())['content-security-policy'] ?? '';
    if (!csp.startsWith("default-src 'none'") || /unsafe/.test(csp)) throw new Failure(`the app is served with a weak policy: ${csp}`);
    const lang = await page.getAttribute('html', 'lang');
    const dir = await page.getAttribute('html', 'dir');
    await page.locator('#signin-username').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    const autofocus = await page.evaluate(() => document.activeElement?.id);
    if (autofocus !== 'signin-username') throw new Failure(`the sign-in page opens with focus on #${autofocus}, not on the user name`);

    // 1. A wrong passphrase.
    await signIn(page, 'not the passphrase', '#signin-error');
    const wrong = await text(page, '#signin-error');
    if (!wrong) throw new Failure('a wrong passphrase showed no error');
    if (seen.tokens.size > 0) throw new Failure('a wrong passphrase got a session token');

    // 2. The right one.
    const started = Date.now();
    await signIn(page, PASSPHRASE, '#org-fingerprint');
    const signInMs = Date.now() - started;
    const orgError = await text(page, '#org-error');
    if (orgError) throw new Failure(`the page refused the organization: ${orgError}`);
    const shown = await text(page, '#org-fingerprint');
    const expected = init.fingerprint.join(' ');
    if (shown !== expected) throw new Failure(`the page shows the fingerprint ${JSON.stringify(shown)}, the CLI printed ${JSON.stringify(expected)}`);
    const pageMembers = await page.locator('#members tbody tr').evaluateAll((rows) =>
      rows.map((row) => ({
        name: row.querySelector('.member-name')?.firstChild?.textContent?.trim() ?? '',
        role: row.querySelector('.member-role')?.getAttribute('data-role') ?? '',
        fingerprint: row.querySelector('.member-fingerprint')?.textContent?.trim() ?? '',
      })),
    );
    const sortByName = (a, b) => a.name.localeCompare(b.name);
    if (JSON.stringify([...pageMembers].sort(sortByName)) !== JSON.stringify([...cliMembers].sort(sortByName))) {
      throw new Failure(`the member list differs: page ${JSON.stringify(pageMembers)}, CLI ${JSON.stringify(cliMembers)}`);
    }
    const pinNote = await text(page, '#org-pin');
    if ((await page.getAttribute('#org-pin', 'data-first-sight')) !== 'true') throw new Failure('the first sign-in did not pin the organization on first sight');

    // 3. Nothing stored, nothing foreign.
    const stored = await page.evaluate(async () => ({
      localStorage: localStorage.length,
      sessionStorage: sessionStorage.length,
      cookie: document.cookie,
      indexedDB: (await indexedDB.databases?.())?.length ?? 0,
    }));
    const cookies = await context.cookies();
    if (stored.localStorage || stored.sessionStorage || stored.cookie || stored.indexedDB || cookies.length) {
      throw new Failure(`the page stored something: ${JSON.stringify({ ...stored, cookies: cookies.length })}`);
    }
    const foreign = [...new Set(seen.requests.filter((u) => !u.startsWith(base)))];
    if (foreign.length) throw new Failure(`requests left the origin: ${foreign.join(', ')}`);
    if (seen.tokens.size !== 1) throw new Failure(`expected one session token in use, saw ${seen.tokens.size}`);
    const [token] = seen.tokens;

    // 4. Lock, from the keyboard.
    await page.focus('#lock');
    await page.keyboard.press('Enter');
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    const notice = await text(page, '#notice');
    const fingerprintGone = (await page.locator('#org-fingerprint').count()) === 0;
    if (!fingerprintGone) throw new Failure('the organization is still shown after Lock');
    let revoked = false;
    for (let i = 0; i < 20 && !revoked; i++) {
      const after = await fetch(`${backend}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      revoked = after.status === 401;
      if (!revoked) await new Promise((r) => setTimeout(r, 100));
    }
    if (!revoked) throw new Failure('the server still accepts the session token after Lock');

    // The pin outlives Lock (not a reload): signing in again finds the same root pinned.
    await signIn(page, PASSPHRASE, '#org-fingerprint');
    const again = await page.getAttribute('#org-pin', 'data-first-sight');
    if (again !== 'false') throw new Failure(`after Lock and a new sign-in, the organization was not recognised as pinned (data-first-sight=${again})`);
    if ((await text(page, '#org-fingerprint')) !== expected) throw new Failure('the fingerprint changed on the second sign-in');
    await page.click('#lock');
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    if (seen.consoleErrors.length) throw new Failure(`console errors: ${seen.consoleErrors.join(' | ')}`);

    // 5. Accessibility (axe-core) and a phone screen, in a context of its own.
    const a11y = await accessibility(browser, base, screenshotDir);
    if (a11y.blocking.length) throw new Failure(`axe-core found serious or critical violations:\n${a11y.blocking.map((v) => `  - ${v.where}: ${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`).join('\n')}`);
    if (a11y.sideways.length) throw new Failure(`the page scrolls sideways on a phone screen: ${a11y.sideways.join(', ')}`);

    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        lang,
        dir,
        wrong_passphrase_message: wrong,
        sign_in_ms: signInMs,
        org_fingerprint: shown,
        cli_fingerprint: expected,
        members: pageMembers,
        pin_note: pinNote,
        lock_notice: notice,
        token_revoked_on_lock: revoked,
        axe_minor_violations: a11y.minor,
        csp,
        console_errors: seen.consoleErrors,
      })}\n`,
    );
  } catch (error) {
    if (screenshotDir) {
      mkdirSync(screenshotDir, { recursive: true });
      await page.screenshot({ path: join(screenshotDir, 'app-failed.png'), fullPage: true }).catch(() => {});
    }
    if (seen.consoleErrors.length) process.stderr.write(`console errors: ${seen.consoleErrors.join(' | ')}\n`);
    throw error;
  }
}

let status = 0;
try {
  await main();
} catch (error) {
  process.stderr.write(`app.mjs: ${error instanceof Failure ? error.message : (error?.stack ?? firstLine(error))}\n`);
  status = 1;
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort
    }
  }
}
process.exit(status);
