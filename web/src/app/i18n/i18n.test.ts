import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../lib/crypto/index.js';
import { catalogues, loadMessages, messages, pickLanguage } from './index.js';
import { COMPARTMENT_NAMES, FLAGS, HOUSE_REFUSAL_REASONS, PATHWAY_KINDS, PRIORITIES, REFUSAL_REASONS, STAGES, STEPS, TRAVEL_REFUSAL_REASONS, VERDICTS } from '../../lib/domain/index.js';

/** The English catalogue as the app loads it: the app's strings over the domain's. */
const en = catalogues().en!;

const APP = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|svelte)$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('message catalogue', () => {
  it('has every key the app asks for by name', () => {
    const used = new Set<string>();
    for (const file of sources(APP)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(20);
    const missing = [...used].filter((k) => !(k in en));
    expect(missing).toEqual([]);
  });

  it('has every key the app builds from a reason, a role or an error code', () => {
    const families = [
      ...['login_failed', 'rate_limited', 'member_removed', 'network', 'keys_refused', 'server_changed', 'server', 'pending_approval'].map((r) => `error.${r}`),
      ...['pin_mismatch', 'chain_invalid', 'rollback', 'not_in_chain', 'load'].map((r) => `error.org.${r}`),
      ...Object.keys(ROLES).map((r) => `role.${r}`),
      ...STAGES.map((s) => `stage.${s}`),
      ...PRIORITIES.map((p) => `priority.${p}`),
      ...VERDICTS.map((v) => `verdict.${v}`),
      ...FLAGS.map((f) => `flag.${f}`),
      ...COMPARTMENT_NAMES.map((c) => `compartment.${c}`),
      ...PATHWAY_KINDS.map((k) => `pathway.${k}`),
      ...STEPS.map((s) => `step.${s}`),
      ...REFUSAL_REASONS.map((r) => `refusal.${r}`),
      ...HOUSE_REFUSAL_REASONS.map((r) => `house.refusal.${r}`),
      ...TRAVEL_REFUSAL_REASONS.map((r) => `travel.refusal.${r}`),
      ...['rollback', 'fork', 'tampered', 'server_changed', 'protocol', 'no_access', 'refused', 'locked'].map((r) => `case.error.${r}`),
      ...['server_changed', 'tampered', 'protocol', 'no_keys', 'refused', 'locked'].map((r) => `intake.error.${r}`),
      ...['cases', 'intake', 'houses', 'tasks', 'reports', 'org'].map((n) => `nav.${n}`),
      ...['open', 'replied', 'dismissed', 'opened'].map((s) => `intake.stateValue.${s}`),
      ...PRIORITIES.map((p) => `intake.urgencyValue.${p}`),
      ...['stage', 'month-opened', 'destination', 'pathway'].flatMap((d) => [`reports.by.${d}`, `reports.dim.${d}`]),
      ...['advance', 'verdict', 'sign_off', 'document', 'flag', 'task', 'task_done'].map((e) => `history.event.${e}`),
    ];
    expect(families.filter((k) => !(k in en))).toEqual([]);
  });

  it('declares its language and direction, and every catalogue has the keys of the English one', () => {
    for (const [lang, catalogue] of Object.entries(catalogues())) {
      expect(catalogue.$lang).toBe(lang);
      expect(['ltr', 'rtl']).toContain(catalogue.$dir);
      expect(Object.keys(en).filter((k) => !(k in catalogue))).toEqual([]);
    }
  });

  it('fills placeholders and takes the direction from the catalogue', () => {
    const m = messages({ $lang: 'ar', $dir: 'rtl', greet: 'مرحبا {name}' });
    expect(m.dir).toBe('rtl');
    expect(m.lang).toBe('ar');
    expect(m.t('greet', { name: 'ada' })).toBe('مرحبا ada');
    // Falls back to English, then to the key itself.
    expect(m.t('signin.submit')).toBe(en['signin.submit']);
    expect(m.t('no.such.key')).toBe('no.such.key');
    expect(loadMessages(['fr-FR', 'en-GB']).lang).toBe('en');
    expect(pickLanguage(['ar-EG', 'he'], ['en', 'ar'])).toBe('ar');
    expect(pickLanguage(['de'], ['en', 'ar'])).toBe('en');
  });
});

describe('the app source', () => {
  it('keeps nothing in browser storage but the sealed cache, and evaluates no code', () => {
    for (const file of sources(APP)) {
      // Comments may name what the code avoids.
      const text = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      // Only core/casecache.ts touches IndexedDB, and only with sealed rows (its own tests scan the bytes).
      const storage = file.endsWith(join('core', 'casecache.ts')) ? [] : [/indexedDB/];
      for (const banned of [/localStorage/, /sessionStorage/, /document\.cookie/, ...storage, /\beval\s*\(/, /new Function\s*\(/, /innerHTML/, /\{@html/]) {
        expect(banned.test(text), `${file} uses ${banned}`).toBe(false);
      }
    }
  });
});
