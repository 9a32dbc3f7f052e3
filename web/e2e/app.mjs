#!/usr/bin/env node
/**
 * Signing in to the staff web app, in a real Chromium, for an organization
 * founded with the command line (story.mjs covers one founded in the browser):
 *
 *   node web/e2e/app.mjs [SCREENSHOT_DIR]
 *
 * It starts `northstar serve` on a fresh data folder, founds "Test" with the
 * CLI as ada, invites bea (caseworker) and admits her, then in Chromium, on
 * the app the server itself serves at `/`:
 *   1. the page opens with focus on the user name; a wrong passphrase is
 *      refused with a message and no session token;
 *   2. ada signs in from the keyboard alone (Tab, type, Enter); the
 *      organization page shows the fingerprint words and the member list
 *      (names, roles, fingerprint words) exactly as the CLI prints them
 *      (`org init --json`, `member list --json`), pinned on first sight;
 *   3. no request left the origin, no console error;
 *   4. Lock (from the keyboard) drops everything and the server refuses the
 *      token afterwards; signing in again finds the organization pinned.
 * Prints one JSON line with what it saw; exit 0 on success, 1 on failure.
 */
import { Failure, STEP_TIMEOUT_MS, cli, launchChromium, runDriver, screenshot, startNorthstar, tempDir, text, watch } from './lib.mjs';

const shots = process.argv[2];
const USER = 'ada';
const PASSPHRASE = 'pass-ada-correct horse battery';

/** Sign in from the keyboard and wait for `success`, or fail with what the page says. */
async function signIn(page, passphrase, success) {
  await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.fill('#signin-username', USER);
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

async function organizationPage(page) {
  await page.evaluate(() => (location.hash = '#/org'));
  await page.locator('#org-fingerprint').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
}

runDriver('app.mjs', async () => {
  const { url: base } = await startNorthstar();
  const ada = tempDir('ns-e2e-profile-');
  const init = await cli(base, ada, PASSPHRASE, ['org', 'init', '--org', 'Test', '--user', USER]);
  const invite = await cli(base, ada, PASSPHRASE, ['invite', '--role', 'caseworker']);
  await cli(base, tempDir('ns-e2e-profile-'), 'pass-bea-correct horse battery', ['join', '--invite', invite.code, '--user', 'bea']);
  await cli(base, ada, PASSPHRASE, ['member', 'list']);
  const listed = await cli(base, ada, PASSPHRASE, ['member', 'list']);
  const cliMembers = (Array.isArray(listed) ? listed : (listed.members ?? [])).map((m) => ({ name: m.name, role: m.role, fingerprint: m.fingerprint.join(' ') }));
  if (!Array.isArray(init.fingerprint) || init.fingerprint.length !== 8) throw new Failure(`org init printed no fingerprint: ${JSON.stringify(init)}`);
  const expected = init.fingerprint.join(' ');

  const browser = await launchChromium();
  const page = await (await browser.newContext()).newPage();
  const seen = watch(page, base);
  try {
    const response = await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    if (!response?.ok()) throw new Failure(`GET ${base}/ answered HTTP ${response?.status()}`);
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

    // 2. The right one; the organization as the CLI sees it.
    const started = Date.now();
    await signIn(page, PASSPHRASE, '#nav-cases');
    const signInMs = Date.now() - started;
    await organizationPage(page);
    const shown = await text(page, '#org-fingerprint');
    if (shown !== expected) throw new Failure(`the page shows the fingerprint ${JSON.stringify(shown)}, the CLI printed ${JSON.stringify(expected)}`);
    const pageMembers = await page.locator('#members tbody tr').evaluateAll((rows) =>
      rows.map((row) => ({
        name: row.querySelector('.member-name')?.firstChild?.textContent?.trim() ?? '',
        role: row.querySelector('.member-role')?.getAttribute('data-role') ?? '',
        fingerprint: row.querySelector('.member-fingerprint')?.textContent?.trim() ?? '',
      })),
    );
    const byName = (a, b) => a.name.localeCompare(b.name);
    if (JSON.stringify([...pageMembers].sort(byName)) !== JSON.stringify([...cliMembers].sort(byName))) {
      throw new Failure(`the member list differs: page ${JSON.stringify(pageMembers)}, CLI ${JSON.stringify(cliMembers)}`);
    }
    if ((await page.getAttribute('#org-pin', 'data-first-sight')) !== 'true') throw new Failure('the first sign-in did not pin the organization on first sight');
    await screenshot(page, shots, 'app-org');

    // 3. Nothing foreign.
    if (seen.foreign.length) throw new Failure(`requests left the origin: ${seen.foreign.join(', ')}`);
    const [token] = seen.tokens;

    // 4. Lock, from the keyboard; the token dies with it; the pin outlives it.
    await page.focus('#lock');
    await page.keyboard.press('Enter');
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    const notice = await text(page, '#notice');
    if ((await page.locator('#org-fingerprint').count()) !== 0) throw new Failure('the organization is still shown after Lock');
    let revoked = false;
    for (let i = 0; i < 20 && !revoked; i++) {
      revoked = (await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status === 401;
      if (!revoked) await new Promise((r) => setTimeout(r, 100));
    }
    if (!revoked) throw new Failure('the server still accepts the session token after Lock');
    await signIn(page, PASSPHRASE, '#nav-cases');
    await organizationPage(page);
    const again = await page.getAttribute('#org-pin', 'data-first-sight');
    if (again !== 'false') throw new Failure(`after Lock and a new sign-in, the organization was not recognised as pinned (data-first-sight=${again})`);
    await page.click('#lock');
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    if (seen.consoleErrors.length) throw new Failure(`console errors: ${seen.consoleErrors.join(' | ')}`);

    return {
      lang,
      dir,
      wrong_passphrase_message: wrong,
      sign_in_ms: signInMs,
      org_fingerprint: shown,
      cli_fingerprint: expected,
      members: pageMembers,
      lock_notice: notice,
      token_revoked_on_lock: revoked,
    };
  } catch (error) {
    await screenshot(page, shots, 'app-failed').catch(() => {});
    throw error;
  }
});
