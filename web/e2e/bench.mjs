#!/usr/bin/env node
/**
 * The staff web app with many cases, in headless Chromium (driven by
 * crates/northstar/benches/webapp.rs, which seeds the server):
 *
 *   node web/e2e/bench.mjs BASE_URL USER PASSPHRASE COUNT NEEDLE
 *
 * 1. Cold: the first sign-in on this browser, which fetches and verifies
 *    every case and seals it into this browser's cache; timed until the
 *    list's first page shows all COUNT cases.
 * 2. Warm: Lock, then sign in again (the usual day): timed from Enter until
 *    the first page of the list shows, split into sign-in (OPAQUE with its
 *    Argon2id, unlocking the keys) and list (opening the sealed cache, the
 *    incremental sync that finds nothing moved, the first page drawn).
 * 3. Search: one keystroke that narrows COUNT cases to the one holding
 *    NEEDLE, timed in the page from the input event until the list shows it.
 * Beside them, measured in the same browser: reading the cache's stored rows
 * back from IndexedDB with nothing done to them (the floor under a warm
 * list), and one pass of `includes` over COUNT strings as long as the
 * search's (the floor under a keystroke).
 * Prints one JSON line of figures (milliseconds).
 */
import { Failure, STEP_TIMEOUT_MS, launchChromium, readIndexedDb, runDriver, watch } from './lib.mjs';

const [base, user, passphrase, countText, needle] = process.argv.slice(2);
const count = Number(countText);
const LONG = Math.max(STEP_TIMEOUT_MS, count * 100);

async function signIn(page) {
  await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.fill('#signin-username', user);
  await page.fill('#signin-passphrase', passphrase);
  const started = Date.now();
  await page.keyboard.press('Enter');
  await page.locator('#nav-cases').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  const signedIn = Date.now();
  await page
    .waitForFunction(
      (n) => document.querySelectorAll('#case-list tbody tr').length > 0 && new RegExp(`of ${n} cases`).test(document.querySelector('#case-count')?.textContent ?? ''),
      count,
      { timeout: LONG },
    )
    .catch(async () => {
      const shown = await page.locator('#case-count, [role="alert"]').allTextContents().catch(() => []);
      throw new Failure(`the list of ${count} cases did not show within ${LONG / 1000} s; the page says: ${shown.join(' | ')}`);
    });
  return { signInMs: signedIn - started, totalMs: Date.now() - started };
}

runDriver('bench.mjs', async () => {
  if (!base || !user || !passphrase || !count || !needle) throw new Failure('usage: bench.mjs BASE_URL USER PASSPHRASE COUNT NEEDLE');
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const seen = watch(page, base);
  await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });

  const cold = await signIn(page);
  await page.click('#lock');
  const warm = await signIn(page);

  const search = await page.evaluate(
    ([text]) =>
      new Promise((resolve) => {
        const input = document.querySelector('#case-search');
        const list = document.querySelector('#case-list tbody');
        const observer = new MutationObserver(() => {
          if (list.querySelectorAll('tr').length === 1 && list.textContent.includes(text)) {
            observer.disconnect();
            resolve({ ms: performance.now() - started, rows: list.querySelectorAll('tr').length });
          }
        });
        observer.observe(list, { childList: true, subtree: true, characterData: true });
        input.value = text;
        const started = performance.now();
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }),
    [needle],
  );

  // The floors, in this browser: the stored records read back untouched, and a bare scan.
  const read = await readIndexedDb(page);
  const scan = await page.evaluate(([n, text]) => {
    const haystack = Array.from({ length: n }, (_, i) => `case ${String(i).padStart(6, '0')}\u0000normal\u0000ru\u0000${'x'.repeat(40)}`.toLowerCase());
    const started = performance.now();
    let hits = 0;
    for (const h of haystack) if (h.includes(text.toLowerCase())) hits++;
    return { ms: performance.now() - started, hits };
  }, [count, needle]);
  const floors = { indexeddb_read_ms: read.ms, indexeddb_rows: read.rows, scan_ms: scan.ms, scan_hits: scan.hits };

  if (seen.consoleErrors.length) throw new Failure(`console errors: ${seen.consoleErrors.join(' | ')}`);
  return {
    cases: count,
    cold_first_page_ms: cold.totalMs,
    warm_sign_in_ms: warm.signInMs,
    warm_first_page_ms: warm.totalMs,
    search_keystroke_ms: search.ms,
    search_rows: search.rows,
    ...floors,
  };
});
