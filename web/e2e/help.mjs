#!/usr/bin/env node
/**
 * End-to-end driver of the public help page in a real Chromium.
 *
 *   node web/e2e/help.mjs submit BASE_URL MARKER SCREENSHOT_DIR
 *     Opens BASE_URL/help, fills every field with text containing MARKER,
 *     submits with JavaScript on, waits for the codename and prints one JSON line:
 *     {"codename","path_text","foreign_requests","console_errors","csp"}.
 *     Fails if the page did not take the sealed path (no POST to
 *     /api/intake/requests, or the form was posted to the server) or if
 *     MARKER left the browser in any request URL or body.
 *
 *   node web/e2e/help.mjs read BASE_URL CODENAME SCREENSHOT_DIR
 *     Opens BASE_URL/help/return, types the codename, submits, waits for the
 *     replies and prints {"replies": [texts], "summary"}.
 *
 * Every step waits at most 60 s, but a page that reports an error in its
 * status line, or that posts its form to the server (help.js missing or
 * broken), fails at once. Console errors exclude Chromium's own /favicon.ico
 * request. Exit status 0 on success, 1 on any failure (the reason on stderr,
 * and SCREENSHOT_DIR/help-MODE-failed.png when a page was open), 2 on a usage
 * error. Needs /usr/bin/chromium (apt-get install -y chromium).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 60_000;
const CHROMIUM = '/usr/bin/chromium';

class Failure extends Error {}

function usage() {
  process.stderr.write(
    'usage: node web/e2e/help.mjs submit BASE_URL MARKER SCREENSHOT_DIR\n' +
      '       node web/e2e/help.mjs read BASE_URL CODENAME SCREENSHOT_DIR\n',
  );
  process.exit(2);
}

const [mode, rawBase, argument, screenshotDir] = process.argv.slice(2);
if (!['submit', 'read'].includes(mode ?? '') || !rawBase || !argument || !screenshotDir) usage();
// The marker is searched for in every request the page sends: a short one could turn up in base64 by chance.
if (mode === 'submit' && argument.length < 8) {
  process.stderr.write('help.mjs: MARKER must have at least 8 characters (it is searched for in every request the page sends)\n');
  process.exit(2);
}
let base;
try {
  base = new URL(rawBase).href.replace(/\/+$/, '');
} catch {
  process.stderr.write(`help.mjs: BASE_URL ${JSON.stringify(rawBase)} is not a URL\n`);
  process.exit(2);
}

/** Everything the page asked for and everything it logged, for the report and for the checks. */
function watch(page) {
  const seen = { requests: [], consoleErrors: [] };
  page.on('request', (request) => {
    seen.requests.push({ url: request.url(), method: request.method(), body: request.postData() ?? '' });
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const where = message.location().url;
    // Chromium asks for /favicon.ico on its own; a missing one says nothing about the page.
    if (where && new URL(where).pathname === '/favicon.ico') return;
    seen.consoleErrors.push(where ? `${message.text()} (${where})` : message.text());
  });
  page.on('pageerror', (error) => seen.consoleErrors.push(`uncaught: ${error.message}`));
  return seen;
}

async function open(page, path) {
  const url = `${base}${path}`;
  let response;
  try {
    response = await page.goto(url, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  } catch (error) {
    throw new Failure(`cannot open ${url}: ${firstLine(error)} (is the server running at ${base}?)`);
  }
  if (!response) throw new Failure(`no response for ${url}`);
  if (!response.ok()) throw new Failure(`GET ${url} answered HTTP ${response.status()}`);
  return response;
}

function firstLine(error) {
  return String(error?.message ?? error).split('\n')[0];
}

async function text(page, selector) {
  return ((await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => '')) ?? '').trim();
}

/**
 * Wait until `result` is visible, or until the page finished handling the
 * submission of `form` without showing it (help.js sets `aria-busy` to
 * "true" while it works and back to "false" when done): then fail at once
 * with what the status line says, which is where the page reports errors.
 */
async function waitForOutcome(page, form, result, what) {
  try {
    await page.waitForFunction(
      ([formSelector, resultSelector]) => {
        const shown = document.querySelector(resultSelector);
        if (shown && !shown.hidden && shown.getClientRects().length > 0) return true;
        return document.querySelector(formSelector)?.getAttribute('aria-busy') === 'false';
      },
      [form, result],
      { timeout: STEP_TIMEOUT_MS },
    );
  } catch (error) {
    const status = await text(page, '#help-status');
    throw new Failure(`${what} did not appear within ${STEP_TIMEOUT_MS / 1000} s${status ? `; the page says: ${JSON.stringify(status)}` : ''} (${firstLine(error)})`);
  }
  if (!(await page.locator(result).first().isVisible())) {
    const status = await text(page, '#help-status');
    throw new Failure(`${what} did not appear; the page says: ${JSON.stringify(status)}`);
  }
}

/**
 * Rejects as soon as the page posts a form itself (a navigation), which
 * means help.js did not load or did not take over: the no-JavaScript path.
 */
function serverPathTaken(page) {
  const taken = new Promise((_, reject) => {
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.method() === 'POST') {
        reject(new Failure(`the form was posted to ${request.url()}: the page took the server path (did /help/assets/help.js load and run?)`));
      }
    });
  });
  taken.catch(() => {}); // Reported through the race below; never an unhandled rejection.
  return taken;
}

function submitButton(page, form) {
  return page.locator(`${form} button[type="submit"], ${form} input[type="submit"], ${form} button:not([type])`).first();
}

async function submitRequest(page, marker) {
  const seen = watch(page);
  const response = await open(page, '/help');
  const csp = response.headers()['content-security-policy'] ?? '';
  const form = '#help-form';
  await page.locator(form).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.fill(`${form} [name="contact"]`, `contact ${marker} +00 000 000`);
  await page.fill(`${form} [name="when"]`, `when ${marker} tonight`);
  await page.fill(`${form} [name="where"]`, `where ${marker} the old station`);
  await page.fill(`${form} [name="what"]`, `what ${marker}: two adults and a child need a safe place.\nLine two ${marker}.`);
  await page.selectOption(`${form} [name="urgency"]`, 'urgent');
  const fellBack = serverPathTaken(page);
  await submitButton(page, form).click();
  await Promise.race([waitForOutcome(page, form, '#help-codename', 'the codename'), fellBack]);
  const codename = await text(page, '#help-codename');
  if (!codename) throw new Failure('#help-codename is visible but empty');
  const pathText = await text(page, '#help-path');

  const posts = seen.requests.filter((r) => r.method === 'POST');
  if (!posts.some((r) => r.url === `${base}/api/intake/requests`)) {
    throw new Failure('the page showed a codename without POSTing /api/intake/requests: the sealed (JavaScript) path was not taken');
  }
  const formPost = posts.find((r) => new URL(r.url).pathname === '/help');
  if (formPost) throw new Failure('the form was posted to /help: the page fell back to the server path');
  const leaks = seen.requests.filter((r) => r.url.includes(marker) || r.body.includes(marker));
  if (leaks.length > 0) {
    throw new Failure(`the marker left the browser in plaintext: ${leaks.map((r) => `${r.method} ${r.url}`).join(', ')}`);
  }
  return {
    codename,
    path_text: pathText,
    foreign_requests: foreign(seen),
    console_errors: seen.consoleErrors,
    csp,
  };
}

async function readReplies(page, codename) {
  watch(page);
  await open(page, '/help/return');
  const form = '#return-form';
  await page.locator(form).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.fill(`${form} [name="codename"]`, codename);
  const fellBack = serverPathTaken(page);
  await submitButton(page, form).click();
  await Promise.race([waitForOutcome(page, form, '#return-result', 'the replies'), fellBack]);
  // Each reply is `<li><time>…</time><p class="reply">…</p></li>` (with or without JavaScript): the text is the `.reply`.
  const replies = await page.locator('#return-replies li').evaluateAll((items) =>
    items.map((item) => (item.querySelector('.reply') ?? item).textContent?.trim() ?? ''),
  );
  const summary = await text(page, '#return-summary');
  const left = await page.locator(`${form} [name="codename"]`).inputValue().catch(() => '');
  if (left) throw new Failure('the codename was left in the return form after use');
  return { replies, summary };
}

function foreign(seen) {
  return [...new Set(seen.requests.map((r) => r.url).filter((url) => !url.startsWith(base)))];
}

async function main() {
  mkdirSync(screenshotDir, { recursive: true });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      timeout: STEP_TIMEOUT_MS,
    });
  } catch (error) {
    throw new Failure(`cannot start ${CHROMIUM}: ${firstLine(error)} (apt-get install -y chromium)`);
  }
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const screenshot = (name) => page.screenshot({ path: join(screenshotDir, name), fullPage: true, timeout: STEP_TIMEOUT_MS });
  try {
    const result = mode === 'submit' ? await submitRequest(page, argument) : await readReplies(page, argument);
    await screenshot(`help-${mode}.png`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (error) {
    if (page.url() !== 'about:blank') await screenshot(`help-${mode}-failed.png`).catch(() => {});
    throw error;
  } finally {
    await browser.close().catch(() => {});
  }
}

main().catch((error) => {
  const message = error instanceof Failure ? error.message : (error?.stack ?? String(error));
  process.stderr.write(`help.mjs ${mode}: ${message}\n`);
  process.exit(1);
});
