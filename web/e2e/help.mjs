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
 *   node web/e2e/help.mjs check BASE_URL SCREENSHOT_DIR
 *     For each language (en, ru, ar) and each of /help?lang=X and
 *     /help/return?lang=X, at a phone viewport (360×640, scale 2, mobile):
 *     fails if the document scrolls sideways or any visible text is smaller
 *     than 12 px, if <html lang> is not the language or `dir` not rtl/ltr as
 *     it should be, or if axe-core finds a violation of impact serious or
 *     critical (all of them printed; axe runs in a context of its own that
 *     bypasses the CSP, everything else under the page's real policy), or if
 *     the page logs a console error. Also loads /help?lang=X with JavaScript
 *     off and checks that the form is visible and could be submitted (it is
 *     not). Saves SCREENSHOT_DIR/help-check-LANG-PAGE.png for every page and
 *     prints {"pages": N, "violations": [the minor and moderate ones]}, where
 *     N counts the page/language pairs checked. Every problem found is listed
 *     before it exits 1.
 *
 * Every step waits at most 60 s, but a page that reports an error in its
 * status line, or that posts its form to the server (help.js missing or
 * broken), fails at once. Console errors exclude Chromium's own /favicon.ico
 * request. Exit status 0 on success, 1 on any failure (the reason on stderr,
 * and SCREENSHOT_DIR/help-MODE-failed.png when a page was open), 2 on a usage
 * error. Needs /usr/bin/chromium (apt-get install -y chromium).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 60_000;
const CHROMIUM = '/usr/bin/chromium';

class Failure extends Error {}

function usage() {
  process.stderr.write(
    'usage: node web/e2e/help.mjs submit BASE_URL MARKER SCREENSHOT_DIR\n' +
      '       node web/e2e/help.mjs read BASE_URL CODENAME SCREENSHOT_DIR\n' +
      '       node web/e2e/help.mjs check BASE_URL SCREENSHOT_DIR\n',
  );
  process.exit(2);
}

const mode = process.argv[2];
// `check` takes no third argument: its screenshot folder comes straight after the URL.
const [rawBase, argument, screenshotDir] =
  mode === 'check' ? [process.argv[3], '', process.argv[4]] : process.argv.slice(3);
if (!['submit', 'read', 'check'].includes(mode ?? '') || !rawBase || (mode !== 'check' && !argument) || !screenshotDir) usage();
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

// ---- check: layout, language and accessibility of every page in every language ----

const CHECK_LANGUAGES = ['en', 'ru', 'ar'];
const RTL_LANGUAGES = new Set(['ar']);
const CHECK_PAGES = [
  { name: 'help', path: '/help' },
  { name: 'return', path: '/help/return' },
];
/** A small phone; the page must fit it without sideways scrolling. */
const PHONE = { viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const MIN_TEXT_PX = 12;
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Sideways scrolling, text under MIN_TEXT_PX, and the language and direction
 * of the document, measured in the page. Only what is rendered counts: a
 * `hidden` section or the JSON data block is not text anyone reads.
 */
function measureLayout(page, minTextPx) {
  return page.evaluate((minPx) => {
    const root = document.scrollingElement ?? document.documentElement;
    const width = root.clientWidth;
    const describe = (el) => {
      let name = el.tagName.toLowerCase();
      if (el.id) name += `#${el.id}`;
      for (const c of el.classList) name += `.${c}`;
      return name;
    };
    const rendered = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility === 'visible';
    const small = [];
    const checked = new Set();
    const checkText = (el, text) => {
      if (checked.has(el) || !rendered(el)) return;
      checked.add(el);
      const px = parseFloat(getComputedStyle(el).fontSize);
      if (px < minPx) small.push(`${describe(el)} ${JSON.stringify(text.trim().slice(0, 40))} at ${px}px`);
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.textContent?.trim() && node.parentElement) checkText(node.parentElement, node.textContent);
    }
    // What a form control shows is not a text node of the page (an option's text is drawn by its select).
    for (const el of document.querySelectorAll('input:not([type="hidden"]), textarea, select, button')) {
      checkText(el, el.value || el.placeholder || el.textContent || '');
    }
    // What sticks out of the page's box, or whose content overflows its own box (a long word), to
    // say why the page scrolls sideways: the innermost such elements, not all their ancestors.
    // Measured against <html>'s box, which a mobile browser may shift when the page overflows.
    const frame = document.documentElement.getBoundingClientRect();
    const spills = (el) => el.clientWidth > 0 && getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1;
    const overflowing = [...document.body.querySelectorAll('*')].filter((el) => {
      if (!rendered(el)) return false;
      const r = el.getBoundingClientRect();
      return r.right > frame.right + 0.5 || r.left < frame.left - 0.5 || spills(el);
    });
    const wide = overflowing
      .filter((el) => !overflowing.some((other) => other !== el && el.contains(other)))
      .slice(0, 5)
      .map((el) => {
        const r = el.getBoundingClientRect();
        const box = `${describe(el)} spans ${Math.round(r.left - frame.left)}..${Math.round(r.right - frame.left)} px`;
        return spills(el) ? `${box} and holds ${el.scrollWidth} px of content` : box;
      });
    return {
      lang: document.documentElement.getAttribute('lang'),
      dir: document.documentElement.getAttribute('dir'),
      scrollWidth: root.scrollWidth,
      clientWidth: width,
      wide,
      small,
    };
  }, minTextPx);
}

/** The layout and language problems of the open page, as sentences. */
async function layoutProblems(page, lang, where) {
  const m = await measureLayout(page, MIN_TEXT_PX);
  const problems = [];
  if (m.scrollWidth > m.clientWidth) {
    problems.push(`${where}: scrolls sideways at 360 px (scrollWidth ${m.scrollWidth} > clientWidth ${m.clientWidth})${m.wide.length ? `; too wide: ${m.wide.join(', ')}` : ''}`);
  }
  if (m.small.length > 0) problems.push(`${where}: text smaller than ${MIN_TEXT_PX}px: ${m.small.join('; ')}`);
  if (m.lang !== lang) problems.push(`${where}: <html lang> is ${JSON.stringify(m.lang)}, not ${JSON.stringify(lang)}`);
  const dir = RTL_LANGUAGES.has(lang) ? 'rtl' : 'ltr';
  if (m.dir !== dir) problems.push(`${where}: <html dir> is ${JSON.stringify(m.dir)}, not ${JSON.stringify(dir)}`);
  return problems;
}

let axeSource;
function axeScript() {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/** axe-core's violations on the open page, each reduced to what a report needs. */
async function axeViolations(page, lang, where) {
  await page.addScriptTag({ content: axeScript() });
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations.map((v) => ({
    page: where,
    lang,
    id: v.id,
    impact: v.impact,
    help: v.help,
    url: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim() })),
  }));
}

/**
 * With JavaScript off the form posts itself to the server: it must be there,
 * post to /help on this origin, and its button must take a click (visible,
 * enabled, not covered). The click is a trial: nothing is sent.
 */
async function noScriptProblems(page, where) {
  const problems = [];
  const form = page.locator('#help-form');
  if (!(await form.isVisible())) return [`${where}: #help-form is not visible without JavaScript`];
  const { action, method } = await form.evaluate((f) => ({ action: f.action, method: f.method }));
  if (action !== `${base}/help` || method !== 'post') {
    problems.push(`${where}: the form would send ${method.toUpperCase()} ${action}, not POST ${base}/help`);
  }
  for (const name of ['contact', 'what', 'urgency']) {
    if (!(await form.locator(`[name="${name}"]`).isEditable().catch(() => false))) problems.push(`${where}: the field ${name} cannot be filled in`);
  }
  const button = submitButton(page, '#help-form');
  try {
    await button.scrollIntoViewIfNeeded({ timeout: 5_000 });
    await button.click({ trial: true, timeout: 5_000 });
  } catch (error) {
    // Playwright's call log says why (covered by another element, disabled, out of view): keep its last word on it.
    const why = String(error?.message ?? '').split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim().replace(/^- /, '')).filter((l) => /intercepts|not visible|not enabled|outside of the viewport|not stable/.test(l)).pop();
    problems.push(`${where}: the submit button cannot be pressed (${why ?? firstLine(error)})`);
  }
  return problems;
}

async function checkPages(browser) {
  const problems = [];
  const information = [];
  const consoleErrors = [];
  let pages = 0;
  const plain = await browser.newContext({ ...PHONE });
  // axe-core has to be injected as a script, which the page's CSP (script-src 'self')
  // refuses; this one context, used for nothing but the axe run, bypasses the CSP.
  // Every other check runs under the real policy.
  const forAxe = await browser.newContext({ ...PHONE, bypassCSP: true });
  const noScript = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
  const newPage = async (context) => {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    return page;
  };
  const shot = (page, name) => page.screenshot({ path: join(screenshotDir, name), fullPage: true, timeout: STEP_TIMEOUT_MS });
  for (const lang of CHECK_LANGUAGES) {
    for (const { name, path } of CHECK_PAGES) {
      const url = `${path}?lang=${lang}`;
      const page = await newPage(plain);
      const seen = watch(page);
      try {
        await open(page, url);
        problems.push(...(await layoutProblems(page, lang, url)));
        await shot(page, `help-check-${lang}-${name}.png`);
        consoleErrors.push(...seen.consoleErrors.map((e) => `${url}: ${e}`));
      } finally {
        await page.close();
      }

      const axePage = await newPage(forAxe);
      try {
        await open(axePage, url);
        for (const v of await axeViolations(axePage, lang, url)) (BLOCKING_IMPACTS.has(v.impact) ? problems : information).push(v);
      } finally {
        await axePage.close();
      }
      pages += 1;
    }

    const url = `/help?lang=${lang}`;
    const where = `${url} without JavaScript`;
    const page = await newPage(noScript);
    try {
      await open(page, url);
      problems.push(...(await layoutProblems(page, lang, where)));
      problems.push(...(await noScriptProblems(page, where)));
      await shot(page, `help-check-${lang}-help-nojs.png`);
    } finally {
      await page.close();
    }
  }
  // A console error with the page's own policy in force is most often a CSP refusal: a broken page.
  problems.push(...consoleErrors.map((e) => `console error: ${e}`));
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      if (typeof p === 'string') return `  - ${p}`;
      const nodes = p.nodes.map((n) => `      at ${n.target}: ${n.summary}`).join('\n');
      return `  - ${p.page}: axe ${p.impact} ${p.id}: ${p.help} (${p.url})\n${nodes}`;
    });
    throw new Failure(`${problems.length} problem(s) found (screenshots in ${screenshotDir}):\n${lines.join('\n')}`);
  }
  return { pages, violations: information };
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
  if (mode === 'check') {
    try {
      process.stdout.write(`${JSON.stringify(await checkPages(browser))}\n`);
    } finally {
      await browser.close().catch(() => {});
    }
    return;
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
