#!/usr/bin/env node
/**
 * The browser tells the person plainly when the server serves something
 * wrong. Driven by crates/northstar/tests/webapp.rs, which edits the
 * database behind the server between the two halves:
 *
 *   NORTHSTAR_USER=ada NORTHSTAR_PASSPHRASE=… node web/e2e/tamper.mjs BASE_URL SCREENSHOT_DIR CASE…
 *
 * 1. Signs in, opens every CASE once (verified, its head pinned in this
 *    page), prints {"ready": true} and waits for a line on stdin.
 * 2. Then syncs and opens each case again, and reports what the page says:
 *    the warning above the list and on each case page, and whether it is
 *    marked as the server's fault. Prints one JSON line:
 *    {"ok", "list_warning", "cases": {ID: {"problem", "server_fault"}}}.
 */
import { createInterface } from 'node:readline';
import { Failure, STEP_TIMEOUT_MS, launchChromium, runDriver, screenshot, text, watch } from './lib.mjs';

const [base, shots, ...cases] = process.argv.slice(2);
const user = process.env.NORTHSTAR_USER;
const passphrase = process.env.NORTHSTAR_PASSPHRASE;

async function open(page, id) {
  await page.evaluate(() => (location.hash = '#/cases'));
  await page.evaluate((i) => (location.hash = `#/cases/${i}`), id);
  await page.waitForFunction(() => document.querySelector('#case-id[data-fresh="true"]') || document.querySelector('#case-problem'), null, { timeout: STEP_TIMEOUT_MS });
}

runDriver('tamper.mjs', async () => {
  if (!base || cases.length === 0 || !user || !passphrase) throw new Failure('usage: NORTHSTAR_USER=… NORTHSTAR_PASSPHRASE=… tamper.mjs BASE_URL SCREENSHOT_DIR CASE…');
  const browser = await launchChromium();
  const page = await (await browser.newContext()).newPage();
  watch(page, base);
  await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  await page.fill('#signin-username', user);
  await page.fill('#signin-passphrase', passphrase);
  await page.keyboard.press('Enter');
  await page.locator('#nav-cases').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  for (const id of cases) {
    await open(page, id);
    if (await page.locator('#case-problem').count()) throw new Failure(`case ${id} did not verify before anything was changed: ${await text(page, '#case-problem')}`);
  }
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = createInterface({ input: process.stdin });
  await new Promise((ok) => lines.once('line', ok));
  lines.close();

  await page.evaluate(() => (location.hash = '#/cases'));
  await page.click('#sync');
  await page.locator('#case-refused').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  const listWarning = await text(page, '#case-refused');
  await screenshot(page, shots, 'tamper-list');
  const seen = {};
  for (const id of cases) {
    await open(page, id);
    const problem = await text(page, '#case-problem');
    const serverFault = (await page.locator('#case-problem.warning').count()) > 0;
    seen[id] = { problem, server_fault: serverFault };
    await screenshot(page, shots, `tamper-${id.slice(0, 8)}`);
  }
  return { list_warning: listWarning, cases: seen };
});
