/**
 * The public help page's script: progressive enhancement of the server-rendered
 * forms, so that a request is sealed in the browser and the server never sees
 * it in plaintext. Without this script (or in a browser that cannot run it)
 * the same forms post to the server, which seals them on receipt.
 *
 * Contract with the server-rendered HTML:
 * - `#help-messages` (JSON data block): the translated strings read by `t()`.
 * - `#help-form` (contact, when, where, what, urgency, referral, lang),
 *   `#help-status`, `#help-result` with `#help-codename` and `#help-path`.
 * - `#return-form` (codename), `#return-result` with `#return-replies` and
 *   `#return-summary`, and `#message-form` (what, hidden codename).
 *
 * Page text is only ever set with `textContent`, never parsed as HTML; the
 * codename lives in memory and on screen only (no storage, no cookies).
 */
import { fromBase64Url, fromHex, toBase64Url, toHex, utf8 } from '../lib/crypto/bytes.js';
import {
  accessHash,
  codenameKeys,
  generateCodename,
  parseCodename,
  powSolve,
  sealRequest,
  type Codename,
  type CodenameKeys,
} from '../lib/crypto/intake.js';
import { randomBytes } from '../lib/crypto/kdf.js';

// ---- The HTTP API (crates/northstar-protocol: paths and intake types) ----

const INTAKE_CONFIG = '/api/intake/config';
const INTAKE_REQUESTS = '/api/intake/requests';
const INTAKE_CONVERSATION = '/api/intake/conversation';
const INTAKE_MESSAGES = '/api/intake/messages';

interface IntakeConfig {
  org_id: string;
  generation: number;
  public_key: string;
  pow_challenge: string;
  pow_bits: number;
  max_sealed_bytes: number;
}

interface ProofOfWork {
  challenge: string;
  nonce: number;
}

interface IntakeSubmit {
  conversation_id: string;
  sealed: string;
  access_hash: string;
  reply_public: string;
  pow?: ProofOfWork;
  referral?: string;
}

interface IntakeReply {
  sealed: string;
  at: number;
}

interface IntakeConversation {
  conversation_id: string;
  org_id: string;
  messages_sent: number;
  replies: IntakeReply[];
}

/** What the requester wrote, sealed as UTF-8 JSON with exactly these keys in this order. */
interface RequestFields {
  contact: string;
  when: string;
  where: string;
  what: string;
  urgency: string;
  lang: string;
}

/** A refusal from the server: its HTTP status, and the code and message of its error body. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The code and message of an error body. The server writes `{"code","message"}`
 * (northstar-protocol ErrorBody); the nested `{"error":{…}}` form is read too.
 */
function errorOf(body: unknown): { code: string; message: string } {
  const inner = isObject(body) && isObject(body.error) ? body.error : body;
  if (!isObject(inner)) return { code: '', message: '' };
  return {
    code: typeof inner.code === 'string' ? inner.code : '',
    message: typeof inner.message === 'string' ? inner.message : '',
  };
}

/** One same-origin JSON call. No cookies are needed; none are sent elsewhere. */
async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, credentials: 'same-origin', cache: 'no-store', redirect: 'error', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const { code, message } = errorOf(parsed);
    throw new ApiError(response.status, code, message);
  }
  return parsed;
}

/** A server answer missing what the page needs is a failure, not something to guess around. */
function malformedAnswer(what: string): ApiError {
  return new ApiError(0, 'malformed_answer', `unexpected answer from the server (${what})`);
}

function readConfig(value: unknown): IntakeConfig {
  if (
    !isObject(value) ||
    typeof value.org_id !== 'string' ||
    typeof value.generation !== 'number' ||
    typeof value.public_key !== 'string' ||
    typeof value.pow_challenge !== 'string' ||
    typeof value.pow_bits !== 'number' ||
    typeof value.max_sealed_bytes !== 'number'
  ) {
    throw malformedAnswer('intake config');
  }
  return value as unknown as IntakeConfig;
}

function readConversation(value: unknown): IntakeConversation {
  if (
    !isObject(value) ||
    typeof value.conversation_id !== 'string' ||
    typeof value.messages_sent !== 'number' ||
    !Array.isArray(value.replies) ||
    !value.replies.every((r) => isObject(r) && typeof r.sealed === 'string')
  ) {
    throw malformedAnswer('conversation');
  }
  return value as unknown as IntakeConversation;
}

// ---- Translated strings ----

type MessageKey =
  | 'js_sealing'
  | 'js_solving'
  | 'js_sending'
  | 'js_path'
  | 'error_busy'
  | 'error_failed'
  | 'error_codename'
  | 'return_nothing'
  | 'return_summary'
  | 'message_sent'
  | 'codename_label'
  // Also in the server's catalogues (crates/northstar-server/i18n), for the cases the brief leaves open.
  | 'error_too_long'
  | 'error_no_desk'
  | 'return_no_replies';

function loadMessages(): Record<string, string> {
  const block = document.getElementById('help-messages');
  const messages: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(block?.textContent ?? '{}');
    if (isObject(parsed)) {
      for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') messages[key] = value;
    }
  } catch {
    // A broken block leaves the key names on screen: visible, and never worse than no text.
  }
  return messages;
}

const messages = loadMessages();

/** The translated string, with `{name}` placeholders filled; the key itself if the page lacks it. */
function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = messages[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** `error_failed` with the reason, as text: in its `{message}` slot if it has one, else after it. */
function failedText(reason: string): string {
  const template = messages.error_failed ?? 'error_failed';
  if (template.includes('{message}')) return t('error_failed', { message: reason });
  return reason ? `${template} ${reason}` : template;
}

function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) return t('error_busy');
    if (error.status === 413) return t('error_too_long');
    if (error instanceof NoDesk) return t('error_no_desk');
    return failedText(error.message || error.code || String(error.status));
  }
  return failedText(error instanceof Error ? error.message : '');
}

// ---- Page helpers ----

/** The page's elements by id, or undefined if any is missing (then the page is left to the server path). */
function elements<const Ids extends readonly string[]>(...ids: Ids): { [K in keyof Ids]: HTMLElement } | undefined {
  const found = ids.map((id) => document.getElementById(id));
  if (found.some((e) => e === null)) {
    console.error(`help page: missing #${ids[found.indexOf(null)]}; the form keeps its server path`);
    return undefined;
  }
  return found as unknown as { [K in keyof Ids]: HTMLElement };
}

function fieldValue(form: HTMLFormElement, name: string): string {
  const field = form.elements.namedItem(name);
  if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement || field instanceof HTMLSelectElement) return field.value;
  return '';
}

function clearField(form: HTMLFormElement, name: string): void {
  const field = form.elements.namedItem(name);
  if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) field.value = '';
}

function setBusy(form: HTMLFormElement, busy: boolean): void {
  form.setAttribute('aria-busy', String(busy));
  for (const button of form.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input[type="submit"]')) button.disabled = busy;
}

/** Move focus to a region that just appeared, so keyboard and screen-reader users land on it. */
function reveal(region: HTMLElement): void {
  region.hidden = false;
  if (!region.hasAttribute('tabindex')) region.tabIndex = -1;
  region.focus();
}

/**
 * Run one submission at a time: while it runs, the form's buttons are off
 * (a second click would cost a second proof of work); any failure ends in the
 * status line, as text.
 */
function onSubmit(form: HTMLFormElement, status: HTMLElement, handler: () => Promise<void>): void {
  let running = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (running) return;
    running = true;
    setBusy(form, true);
    handler()
      .catch((error: unknown) => {
        status.textContent = errorText(error);
      })
      .finally(() => {
        running = false;
        setBusy(form, false);
      });
  });
}

function currentLang(form?: HTMLFormElement): string {
  return (form ? fieldValue(form, 'lang') : '') || document.documentElement.lang || '';
}

/** The help desk is not open yet: the config answers 404 until an admin sets the intake key. */
class NoDesk extends ApiError {}

async function fetchConfig(): Promise<IntakeConfig> {
  try {
    return readConfig(await api('GET', INTAKE_CONFIG));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw new NoDesk(error.status, error.code, error.message);
    throw error;
  }
}

/**
 * Solve the challenge of `config`, showing the percentage. The live region is
 * updated at most once a second, so a screen reader is not flooded.
 */
async function proofOfWork(config: IntakeConfig, status: HTMLElement): Promise<ProofOfWork> {
  let lastShown = 0;
  const show = (fraction: number, force = false) => {
    const now = Date.now();
    if (!force && now - lastShown < 1000) return;
    lastShown = now;
    status.textContent = t('js_solving', { percent: Math.min(99, Math.floor(fraction * 100)) });
  };
  show(0, true);
  const nonce = await powSolve(fromBase64Url(config.pow_challenge), config.pow_bits, { onProgress: (f) => show(f) });
  return { challenge: config.pow_challenge, nonce };
}

/** Seal the fields to the intake key of `config`, bound to `conversation`; refuses what the server would refuse for size. */
async function sealFields(config: IntakeConfig, conversation: Uint8Array, fields: RequestFields): Promise<Uint8Array> {
  const plaintext: RequestFields = {
    contact: fields.contact,
    when: fields.when,
    where: fields.where,
    what: fields.what,
    urgency: fields.urgency,
    lang: fields.lang,
  };
  const sealed = await sealRequest(fromHex(config.org_id), config.generation, fromBase64Url(config.public_key), conversation, utf8.encode(JSON.stringify(plaintext)));
  // Checked before the proof of work, so nobody solves one for a message the server will refuse.
  if (sealed.length > config.max_sealed_bytes) throw new ApiError(413, 'payload_too_large', `${sealed.length} bytes sealed, at most ${config.max_sealed_bytes}`);
  return sealed;
}

// ---- The request form ----

function enhanceRequestForm(form: HTMLFormElement): void {
  const found = elements('help-status', 'help-result', 'help-codename', 'help-path');
  if (!found) return;
  const [status, result, codenameOut, pathOut] = found;
  onSubmit(form, status, async () => {
    status.textContent = t('js_sealing');
    const config = await fetchConfig();
    const codename = generateCodename();
    const keys = await codenameKeys(codename, fromHex(config.org_id));
    const conversation = randomBytes(16);
    const sealed = await sealFields(config, conversation, {
      contact: fieldValue(form, 'contact'),
      when: fieldValue(form, 'when'),
      where: fieldValue(form, 'where'),
      what: fieldValue(form, 'what'),
      urgency: fieldValue(form, 'urgency'),
      lang: currentLang(form),
    });
    const submit: IntakeSubmit = {
      conversation_id: toHex(conversation),
      sealed: toBase64Url(sealed),
      access_hash: toBase64Url(accessHash(keys.access)),
      reply_public: toBase64Url(keys.replyPublic),
    };
    // A partner's referral code stands in for the proof of work.
    const referral = fieldValue(form, 'referral').trim();
    if (referral) submit.referral = referral;
    else submit.pow = await proofOfWork(config, status);
    status.textContent = t('js_sending');
    await api('POST', INTAKE_REQUESTS, submit);
    // Sent: what was typed leaves the page; only the codename stays, to be written down.
    form.reset();
    form.hidden = true;
    status.textContent = '';
    codenameOut.textContent = codename;
    pathOut.textContent = t('js_path');
    if (!result.hasAttribute('aria-label') && !result.hasAttribute('aria-labelledby')) result.setAttribute('aria-label', t('codename_label'));
    reveal(result);
  });
}

// ---- The return page and follow-up messages ----

/** What a proven codename opens, kept in this page's memory only. */
interface Session {
  keys: CodenameKeys;
  org: Uint8Array;
  conversation: Uint8Array;
  sent: number;
  replies: number;
}

/** The status line: the page's own, or one made next to the form so the return page always has one. */
function statusFor(form: HTMLFormElement): HTMLElement {
  const existing = document.getElementById('help-status');
  if (existing) return existing;
  const status = document.createElement('p');
  status.id = 'help-status';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  form.before(status);
  return status;
}

class NothingFound extends Error {}

/** A reply opened in the page: its text and when the team sent it (Unix seconds). */
interface OpenedReply {
  text: string;
  at: number;
}

/**
 * Derive the codename's keys, prove them to the server, and open the replies
 * locally. A reply that does not open is left out, as the server's own page
 * leaves it out, and the count is of the replies shown.
 */
async function openConversation(codename: Codename): Promise<{ session: Session; replies: OpenedReply[] }> {
  const config = await fetchConfig();
  const org = fromHex(config.org_id);
  const keys = await codenameKeys(codename, org);
  let answer: unknown;
  try {
    answer = await api('POST', INTAKE_CONVERSATION, { access: toBase64Url(keys.access) });
  } catch (error) {
    // The same answer for every wrong codename: the server cannot tell them apart either.
    if (error instanceof ApiError && error.status === 404) throw new NothingFound();
    throw error;
  }
  const conversation = readConversation(answer);
  const conversationId = fromHex(conversation.conversation_id);
  const replies: OpenedReply[] = [];
  for (const reply of conversation.replies) {
    try {
      const text = utf8.decodeStrict(await keys.openReply(org, conversationId, fromBase64Url(reply.sealed)));
      if (text !== undefined) replies.push({ text, at: reply.at });
    } catch {
      // Not ours to show: altered, or sealed to another key. The server's page drops it too.
    }
  }
  return {
    session: { keys, org, conversation: conversationId, sent: conversation.messages_sent, replies: replies.length },
    replies,
  };
}

/** The server's own format for reply times (northstar-core time::format_utc): "2026-12-01 14:30 UTC". */
function formatUtc(seconds: number): { iso: string; shown: string } {
  const iso = new Date(seconds * 1000).toISOString();
  return { iso, shown: `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` };
}

/** One reply as the server renders it without JavaScript: `<li><time>…</time><p class="reply">…</p></li>`, as text only. */
function replyItem(reply: OpenedReply): HTMLLIElement {
  const item = document.createElement('li');
  if (Number.isFinite(reply.at)) {
    const { iso, shown } = formatUtc(reply.at);
    const time = document.createElement('time');
    time.dateTime = iso;
    time.textContent = shown;
    item.append(time);
  }
  const text = document.createElement('p');
  text.className = 'reply';
  text.textContent = reply.text;
  item.append(text);
  return item;
}

function enhanceReturnPage(returnForm: HTMLFormElement | null, messageForm: HTMLFormElement | null): void {
  const anchor = returnForm ?? messageForm;
  if (!anchor) return;
  const status = statusFor(anchor);
  let session: Session | undefined;

  const showSummary = (summary: HTMLElement | null) => {
    if (summary && session) summary.textContent = t('return_summary', { sent: session.sent, replies: session.replies });
  };

  if (returnForm) {
    const found = elements('return-result', 'return-replies', 'return-summary');
    if (!found) return;
    const [result, list, summary] = found;
    onSubmit(returnForm, status, async () => {
      let codename: Codename;
      try {
        codename = parseCodename(fieldValue(returnForm, 'codename'));
      } catch {
        // Left in the field so a typo can be corrected.
        status.textContent = t('error_codename');
        return;
      }
      clearField(returnForm, 'codename');
      status.textContent = t('js_sending');
      let opened;
      try {
        opened = await openConversation(codename);
      } catch (error) {
        if (error instanceof NothingFound) {
          status.textContent = t('return_nothing');
          return;
        }
        throw error;
      }
      session = opened.session;
      list.replaceChildren(...opened.replies.map(replyItem));
      if (opened.replies.length === 0) {
        const none = document.createElement('p');
        none.textContent = t('return_no_replies');
        list.after(none);
      }
      showSummary(summary);
      status.textContent = '';
      returnForm.hidden = true;
      if (messageForm) messageForm.hidden = false;
      reveal(result);
    });
  }

  if (messageForm) {
    onSubmit(messageForm, status, async () => {
      const what = fieldValue(messageForm, 'what');
      if (!what.trim()) return;
      if (!session) {
        // A page the server rendered after a no-JavaScript return carries the codename in the form.
        let codename: Codename;
        try {
          codename = parseCodename(fieldValue(messageForm, 'codename'));
        } catch {
          status.textContent = t('error_codename');
          return;
        }
        status.textContent = t('js_sending');
        try {
          session = (await openConversation(codename)).session;
        } catch (error) {
          if (error instanceof NothingFound) {
            status.textContent = t('return_nothing');
            return;
          }
          throw error;
        }
      }
      clearField(messageForm, 'codename');
      status.textContent = t('js_sealing');
      const config = await fetchConfig();
      if (toHex(fromHex(config.org_id)) !== toHex(session.org)) throw malformedAnswer('organization changed');
      const sealed = await sealFields(config, session.conversation, {
        contact: '',
        when: '',
        where: '',
        what,
        urgency: '',
        lang: currentLang(messageForm),
      });
      const pow = await proofOfWork(config, status);
      status.textContent = t('js_sending');
      await api('POST', INTAKE_MESSAGES, { access: toBase64Url(session.keys.access), sealed: toBase64Url(sealed), pow });
      clearField(messageForm, 'what');
      session.sent += 1;
      showSummary(document.getElementById('return-summary'));
      status.textContent = t('message_sent');
    });
  }
}

// ---- Start ----

/**
 * Everything the sealed path needs. Web Crypto's `subtle` exists only in a
 * secure context (HTTPS, localhost, an onion service in Tor Browser); where it
 * is missing the forms keep their server path instead of failing.
 */
function canSealHere(): boolean {
  return (
    globalThis.isSecureContext === true &&
    typeof crypto !== 'undefined' &&
    typeof crypto.subtle !== 'undefined' &&
    typeof crypto.getRandomValues === 'function' &&
    typeof fetch === 'function' &&
    typeof TextEncoder === 'function'
  );
}

function start(): void {
  if (!canSealHere()) return;
  const requestForm = document.getElementById('help-form');
  if (requestForm instanceof HTMLFormElement) enhanceRequestForm(requestForm);
  const returnForm = document.getElementById('return-form');
  const messageForm = document.getElementById('message-form');
  enhanceReturnPage(returnForm instanceof HTMLFormElement ? returnForm : null, messageForm instanceof HTMLFormElement ? messageForm : null);
}

// A module script runs after parsing, but may be inlined or moved by a future page: wait if need be.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
