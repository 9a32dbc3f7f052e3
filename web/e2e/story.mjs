#!/usr/bin/env node
/**
 * The brief's whole story through the staff web app, in a real Chromium,
 * against a real `northstar serve` (the app the binary itself serves at `/`):
 *
 *   node web/e2e/story.mjs SCREENSHOT_DIR
 *
 * An admin (ada) sets up the organization in the browser and invites a
 * caseworker (cam, who joins in the browser) and an approver (abe, who joins
 * with the command line). A request arrives through the public page (its own
 * Chromium run, web/e2e/help.mjs). Ada replies and opens a case from it, moves
 * it through screening to verification and shares it; cam records the
 * verdict and signs off, and is refused acceptance with one sign-off (the
 * guard's reason on screen); abe signs off with the command line, and cam is
 * granted acceptance. Ada opens a safe house and places the person there,
 * adds a pathway with its checklist, the departure documents, a leg with its
 * check-in, and takes the case through arrival to closure. Screenshots of
 * every stage go to SCREENSHOT_DIR.
 *
 * Along the way: the command line reads the case made in the browser (abe,
 * `case show`), and the browser reads a case made by the command line;
 * the requester reads the reply with their codename; every page's policy is
 * checked, no request leaves the origin, the console stays clean, nothing is
 * left in browser storage; axe-core scans every page at a phone width; Lock
 * ends the session. Prints one JSON line; exit 0 on success, 1 on failure
 * (reason on stderr, SCREENSHOT_DIR/story-failed.png).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Failure, REPO, STEP_TIMEOUT_MS, axe, cli, describeViolations, launchChromium, readIndexedDb, runDriver, screenshot, startNorthstar, tempDir, text, watch } from './lib.mjs';

const shots = process.argv[2];
const PASS = { ada: 'ada-correct horse battery staple', cam: 'cam-correct horse battery staple', abe: 'abe-correct horse battery staple' };
const MARKER = `STORY${Date.now().toString(36).toUpperCase()}`;

/** One stage of the story: a name, what the page showed, and its screenshot. */
const stages = [];

async function stage(page, name, detail = {}) {
  await screenshot(page, shots, `story-${String(stages.length + 1).padStart(2, '0')}-${name}`);
  stages.push({ name, ...detail });
}

function node(args) {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: join(REPO, 'web'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? ok(JSON.parse(out.trim().split('\n').pop())) : fail(new Failure(`node ${args.join(' ')} failed: ${err || out}`))));
  });
}

async function visible(page, selector, what = selector) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } catch {
    const alerts = await page.locator('[role="alert"]').allTextContents().catch(() => []);
    throw new Failure(`${what} did not appear${alerts.length ? `; the page says: ${alerts.join(' | ')}` : ''}`);
  }
}

/** Wait until `selector` shows text matching `pattern`; fail with what the page says otherwise. */
async function shows(page, selector, pattern, what) {
  try {
    await page.waitForFunction(
      ([s, p]) => [...document.querySelectorAll(s)].some((e) => new RegExp(p, 'i').test(e.textContent ?? '')),
      [selector, pattern.source],
      { timeout: STEP_TIMEOUT_MS },
    );
  } catch {
    const alerts = await page.locator('[role="alert"]').allTextContents().catch(() => []);
    throw new Failure(`${what}: ${selector} never matched ${pattern}${alerts.length ? `; the page says: ${alerts.join(' | ')}` : ''}`);
  }
}

async function go(page, hash) {
  await page.evaluate((h) => (location.hash = h), hash);
  await visible(page, '#page-heading');
}

async function stageIs(page, name) {
  await page.waitForFunction((n) => document.querySelector('#case-stage')?.getAttribute('data-stage') === n, name, { timeout: STEP_TIMEOUT_MS }).catch(async () => {
    const alerts = await page.locator('[role="alert"]').allTextContents().catch(() => []);
    const now = await page.getAttribute('#case-stage', 'data-stage').catch(() => '?');
    throw new Failure(`the case did not reach ${name} (it is ${now})${alerts.length ? `; the page says: ${alerts.join(' | ')}` : ''}`);
  });
}

async function advance(page, to, reason) {
  if (reason) await page.fill('#workflow-reason', reason);
  await page.click('#advance');
  await stageIs(page, to);
}

async function signIn(page, base, user) {
  await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  await visible(page, '#signin-form');
  await page.fill('#signin-username', user);
  await page.fill('#signin-passphrase', PASS[user]);
  await page.keyboard.press('Enter');
  await visible(page, '#nav-cases', `${user}'s signed-in app`);
}

async function openCase(page, id) {
  await go(page, '#/cases');
  await go(page, `#/cases/${id}`);
  // Verified again from the first entry: the workflow's buttons act on the case as it stands now.
  await visible(page, '#case-id[data-fresh="true"]', `case ${id} read afresh`);
}

async function tab(page, name) {
  await page.click(`#tab-${name}`);
  await visible(page, `#panel-${name}`);
}

/**
 * Keys and tokens live in memory only; the one thing a browser keeps is the
 * sealed copy of the member's cases in IndexedDB. Every stored byte is read
 * back and searched for what the story wrote in the clear.
 */
async function storageHoldsNoPlaintext(page, context, secrets) {
  const stored = await readIndexedDb(page);
  const kept = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
  const cookies = (await context.cookies()).length;
  if (kept.local || kept.session || cookies) throw new Failure(`the app left something in browser storage: ${JSON.stringify({ ...kept, cookies })}`);
  const found = secrets.filter((s) => stored.text.includes(s));
  if (found.length) throw new Failure(`the browser's stored copy holds plaintext: ${found.join(', ')}`);
  return stored.rows;
}

runDriver('story.mjs', async () => {
  const { url: base, log } = await startNorthstar(['--intake-pow-bits', '10']);
  const browser = await launchChromium();
  const ctxAda = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ctxCam = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ada = await ctxAda.newPage();
  const cam = await ctxCam.newPage();
  const seenAda = watch(ada, base);
  const seenCam = watch(cam, base);
  const abeProfile = tempDir('ns-story-abe-');
  const abe = (args) => cli(base, abeProfile, PASS.abe, args);
  try {
    // 1. The admin sets up the organization in the browser.
    const root = await ada.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    const policy = root?.headers()['content-security-policy'] ?? '';
    if (!policy.startsWith("default-src 'none'") || /unsafe|https?:/.test(policy)) throw new Failure(`the app's policy is not strict: ${policy}`);
    await ada.click('#go-setup');
    await ada.fill('#setup-org', 'Rainbow Bridge');
    await ada.fill('#setup-user', 'ada');
    await ada.fill('#setup-pass', PASS.ada);
    await ada.fill('#setup-again', PASS.ada);
    await ada.click('#setup-submit');
    await visible(ada, '#setup-fingerprint', 'the organization fingerprint after setup');
    const fingerprint = await text(ada, '#setup-fingerprint');
    if (fingerprint.split(' ').length !== 8) throw new Failure(`setup showed "${fingerprint}", not 8 fingerprint words`);
    await stage(ada, 'setup', { fingerprint });
    await ada.click('#setup-continue');
    await visible(ada, '#nav-cases', "ada's app after setup");

    // 2. Invitations: a caseworker and an approver.
    await go(ada, '#/org');
    const invite = async (role) => {
      await ada.selectOption('#invite-role', role);
      await ada.click('#invite-create');
      await shows(ada, '#invite-code', /\S{10,}/, `the ${role} invitation`);
      return text(ada, '#invite-code');
    };
    const camCode = await invite('caseworker');
    const abeCode = await invite('approver');
    await stage(ada, 'invite');

    // 3. cam joins in the browser, abe with the command line; both see the same organization.
    await cam.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    await cam.click('#go-join');
    await cam.fill('#join-code', camCode);
    await cam.fill('#join-user', 'cam');
    await cam.fill('#join-pass', PASS.cam);
    await cam.fill('#join-again', PASS.cam);
    await cam.click('#join-submit');
    await visible(cam, '#join-done', "cam's joining");
    const camSees = await text(cam, '#join-fingerprint');
    if (camSees !== fingerprint) throw new Failure(`cam's browser shows the fingerprint "${camSees}", the admin's "${fingerprint}"`);
    await stage(cam, 'join');
    const joined = await abe(['join', '--invite', abeCode, '--user', 'abe']);
    const abeSees = (joined.org_fingerprint ?? joined.fingerprint ?? []).join(' ');
    if (abeSees !== fingerprint) throw new Failure(`the command line shows the fingerprint "${abeSees}" for the organization the browser set up ("${fingerprint}")`);

    // 4. The admin admits both.
    await ada.click('#approve-pending');
    await shows(ada, '#approve-result', /cam/, 'admitting cam');
    await shows(ada, '#approve-result', /abe/, 'admitting abe');
    await shows(ada, '#members', /cam[\s\S]*abe|abe[\s\S]*cam/, 'the member list after admitting');
    await stage(ada, 'members');

    // 5. A request through the public page (JavaScript on, sealed in that browser).
    const request = await node(['e2e/help.mjs', 'submit', base, MARKER, shots ?? tempDir('ns-story-help-')]);
    await go(ada, '#/intake');
    await visible(ada, '[data-thread] a', 'the request in the intake queue');
    await stage(ada, 'intake-queue');
    await ada.click('[data-thread] a');
    await shows(ada, '#thread-messages', new RegExp(MARKER), 'the opened request');
    const reply = `We have your request ${MARKER}; a caseworker will write within a day.`;
    await ada.fill('#reply-text', reply);
    await ada.click('#reply-send');
    await visible(ada, '#thread-done', 'the reply');
    await ada.fill('#open-alias', 'Birch');
    await ada.fill('#open-country', 'RU');
    await ada.click('#open-case');
    await ada.waitForFunction(() => /^#\/cases\/[0-9a-f]{32}$/.test(location.hash), null, { timeout: STEP_TIMEOUT_MS });
    const caseId = (await ada.evaluate(() => location.hash)).split('/').pop();
    await stageIs(ada, 'intake');
    await stage(ada, 'case-opened', { caseId });
    const requesterRead = await node(['e2e/help.mjs', 'read', base, request.codename, shots ?? tempDir('ns-story-help-')]);
    if (!requesterRead.replies.some((r) => r.includes(MARKER))) throw new Failure(`the requester's codename did not open the reply: ${JSON.stringify(requesterRead)}`);

    // 6. Screening, verification, and sharing with the caseworker and the approver.
    await advance(ada, 'screening');
    await advance(ada, 'verification');
    await tab(ada, 'sharing');
    const share = async (name, compartments) => {
      const value = await ada.locator('#share-member option', { hasText: name }).getAttribute('value');
      await ada.selectOption('#share-member', value);
      for (const c of compartments) await ada.check(`#share-${c}`);
      await ada.click('#share');
      await shows(ada, '#share-done', new RegExp(name), `sharing with ${name}`);
    };
    await share('cam', ['summary', 'identity', 'story', 'logistics', 'travel', 'messages']);
    await share('abe', ['summary', 'story']);
    await stage(ada, 'verification-shared');

    // 7. The caseworker's verdict and sign-off; acceptance refused with one sign-off.
    await signIn(cam, base, 'cam');
    await openCase(cam, caseId);
    await stageIs(cam, 'verification');
    await cam.fill('#verdict-reason', 'Documents and two references check out.');
    await cam.click('#verdict-credible');
    await visible(cam, '#case-verdict', 'the verdict');
    await cam.click('#sign-off');
    await shows(cam, '#case-signoffs', /cam/, "cam's sign-off");
    await cam.click('#advance');
    await shows(cam, '#workflow-refusal', /two different members/, 'the refusal of acceptance with one sign-off');
    const refusal = await text(cam, '#workflow-refusal');
    await stageIs(cam, 'verification');
    await stage(cam, 'acceptance-refused', { refusal });

    // 8. The approver signs off from the command line; now acceptance is granted.
    await abe(['case', 'approve', caseId]);
    await openCase(cam, caseId);
    await shows(cam, '#case-signoffs', /abe/, "abe's sign-off, made with the command line");
    await advance(cam, 'accepted');
    await stage(cam, 'accepted');

    // 9. Protection: a safe house, and the person placed there.
    await openCase(ada, caseId);
    await advance(ada, 'protection');
    await go(ada, '#/houses');
    await ada.fill('#house-code', 'Harbor');
    await ada.fill('#house-capacity', '2');
    await ada.fill('#house-address', '12 Quiet Street');
    await ada.click('#house-create');
    await visible(ada, '#place-form', 'the new safe house');
    const birch = await ada.locator('#place-case option', { hasText: 'Birch' }).getAttribute('value');
    await ada.selectOption('#place-case', birch);
    await ada.click('#place');
    await visible(ada, '#house-done', 'the placement');
    await shows(ada, '#house-occupancy', /1 of 2/, 'the occupancy after placing');
    await stage(ada, 'safe-house');

    // 10. A pathway with its checklist; the departure documents.
    await openCase(ada, caseId);
    await tab(ada, 'travel');
    await ada.selectOption('#pathway-kind', 'humanitarian-visa');
    await ada.fill('#pathway-destination', 'CA');
    await ada.click('#pathway-add');
    await visible(ada, '[data-pathway="1"]', 'the pathway');
    await ada.selectOption('#step-name', 'submitted');
    await ada.click('#step-add');
    await visible(ada, '[data-pathway="1"] [data-step="submitted"].done', 'the recorded step');
    await advance(ada, 'pathway');
    await ada.click('#advance');
    await shows(ada, '#workflow-refusal', /checklist/, 'the refusal of departure without documents');
    await ada.fill('#document-name', 'Passport');
    await ada.click('#document-add');
    await visible(ada, '[data-document="Passport"]', 'the checklist item');
    await ada.check('[data-document="Passport"]');
    await ada.waitForFunction(() => document.querySelector('[data-document="Passport"]')?.checked === true && !document.querySelector('[data-document="Passport"]')?.disabled, null, { timeout: STEP_TIMEOUT_MS });
    await stage(ada, 'pathway');

    // 11. Departure with a check-in.
    await advance(ada, 'departure');
    await tab(ada, 'travel');
    const day = (offset) => new Date(Date.now() + offset * 3_600_000).toISOString().slice(0, 16);
    await ada.fill('#leg-from', 'Grozny');
    await ada.fill('#leg-to', 'Moscow');
    await ada.fill('#leg-depart', day(-2));
    await ada.fill('#leg-checkin', day(20));
    await ada.click('#leg-add');
    await visible(ada, '#checkin-1', 'the leg with its check-in');
    await ada.click('#checkin-1');
    await visible(ada, '[data-leg="1"] [data-checked-in]', 'the check-in');
    await stage(ada, 'departure');

    // 12. Arrival, resettlement, closure.
    await advance(ada, 'arrival');
    await advance(ada, 'resettlement');
    await advance(ada, 'closed', 'Resettled safely; the family is in touch with the local group.');
    await stage(ada, 'closed');

    // 13. The command line reads the case made in the browser.
    const shown = await abe(['case', 'show', caseId]);
    const shownText = JSON.stringify(shown);
    if (!shownText.includes('Birch') || !/"stage":\s*"closed"/.test(shownText)) throw new Failure(`the command line does not read the browser's case as closed Birch: ${shownText.slice(0, 600)}`);

    // 14. The browser reads a case made by the command line.
    const made = await abe(['case', 'new', '--alias', 'Cedar', '--priority', 'urgent', '--country', 'TJ']);
    const cedar = made.case_id ?? made.id;
    await abe(['case', 'set', cedar, `story.account=Written in a terminal ${MARKER}`]);
    await abe(['case', 'share', cedar, '--with', 'cam', '--compartment', 'summary,story']);
    await go(cam, '#/cases');
    await cam.click('#sync');
    await visible(cam, `[data-case="${cedar}"]`, 'the command line case in the browser list');
    await openCase(cam, cedar);
    await tab(cam, 'story');
    await shows(cam, '#fields-story', new RegExp(`Written in a terminal ${MARKER}`), "the command line's story field in the browser");
    await tab(cam, 'finance');
    await visible(cam, '#no-access', 'the plain no-access panel');
    await stage(cam, 'cli-case-in-browser', { cedar });

    // 15. Tasks and reports.
    await go(ada, '#/tasks');
    await stage(ada, 'tasks');
    await go(ada, '#/reports');
    await visible(ada, 'figure.chart svg', 'the report charts');
    await stage(ada, 'reports');

    // 16. Nothing stored, nothing foreign, no console error; Lock ends the session.
    const secrets = [MARKER, 'Birch', 'Cedar', 'Grozny', 'Quiet Street', 'Resettled safely', 'Passport', '"ada"', '"cam"'];
    const storedRows = (await storageHoldsNoPlaintext(ada, ctxAda, secrets)) + (await storageHoldsNoPlaintext(cam, ctxCam, secrets));
    if (storedRows === 0) throw new Failure('the browsers kept no sealed copy of the cases at all');
    const foreign = [...seenAda.foreign, ...seenCam.foreign];
    if (foreign.length) throw new Failure(`requests left the origin: ${foreign.join(', ')}`);
    const consoleErrors = [...seenAda.consoleErrors, ...seenCam.consoleErrors];
    if (consoleErrors.length) throw new Failure(`console errors: ${consoleErrors.join(' | ')}`);
    const tokens = [...seenAda.tokens];
    await ada.click('#lock');
    await visible(ada, '#signin-form', 'the sign-in form after Lock');
    const after = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${tokens[tokens.length - 1]}` } });
    if (after.status !== 401) throw new Failure(`the server still accepts ada's last session token after Lock (HTTP ${after.status})`);

    // 17. axe on every page, at a phone width.
    const a11yCtx = await browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const phone = await a11yCtx.newPage();
    const scans = [];
    const scan = async (where) => scans.push(await axe(phone, where));
    await phone.goto(`${base}/`, { waitUntil: 'load' });
    await visible(phone, '#signin-form');
    await scan('sign-in');
    await phone.click('#go-setup');
    await scan('setup');
    await phone.click('#go-signin');
    await phone.click('#go-join');
    await scan('join');
    await signIn(phone, base, 'ada');
    for (const [where, hash] of [
      ['cases', '#/cases'],
      ['case', `#/cases/${caseId}`],
      ['intake', '#/intake'],
      ['houses', '#/houses'],
      ['tasks', '#/tasks'],
      ['reports', '#/reports'],
      ['org', '#/org'],
    ]) {
      await go(phone, hash);
      if (where === 'case') await visible(phone, '#case-id[data-fresh="true"]');
      if (where === 'intake') {
        // The request became a case, so it shows only with the closed ones.
        await phone.check('#intake-all');
        await visible(phone, '[data-thread] a');
      }
      await scan(where);
    }
    await phone.click('[data-house] a').catch(async () => {
      await go(phone, '#/houses');
      await phone.click('[data-house] a');
    });
    await visible(phone, '#house-occupancy');
    await scan('house');
    await go(phone, '#/intake');
    await visible(phone, '[data-thread] a');
    await phone.click('[data-thread] a');
    await visible(phone, '#thread-messages');
    await scan('thread');
    const blocking = scans.flatMap((s) => s.blocking);
    if (blocking.length) throw new Failure(`axe-core found serious or critical violations:\n${describeViolations(blocking)}`);
    const sideways = scans.filter((s) => s.sideways).map((s) => s.where);
    if (sideways.length) throw new Failure(`pages scroll sideways on a 360 px phone screen: ${sideways.join(', ')}`);

    return {
      stages,
      case_id: caseId,
      cli_case_id: cedar,
      fingerprint,
      acceptance_refusal: refusal,
      csp: policy,
      axe_pages: scans.length,
      axe_minor: scans.flatMap((s) => s.minor).map((v) => `${v.where}: ${v.id}`),
      requests: seenAda.requests.length + seenCam.requests.length,
      sealed_rows_stored: storedRows,
    };
  } catch (error) {
    await screenshot(ada, shots, 'story-failed-ada').catch(() => {});
    await screenshot(cam, shots, 'story-failed-cam').catch(() => {});
    if (!(error instanceof Failure)) process.stderr.write(`server log tail: ${log.join('').slice(-1500)}\n`);
    throw error;
  }
});
