/**
 * The message catalogue: every string the app shows comes from a JSON file
 * in this folder, keyed by message id, with `{name}` placeholders. `$lang`
 * and `$dir` ("ltr" or "rtl") describe the catalogue itself; the page takes
 * `lang` and `dir` from them.
 */
import appEn from './en.json';
import domainEn from './domain.en.json';

export type Catalogue = Record<string, string>;
export type Direction = 'ltr' | 'rtl';

/**
 * Every catalogue the build carries; a new language is one more pair of JSON
 * files and one more line here. `domain.*.json` words the domain's names and
 * refusals (web/src/lib/domain), the other file the app's own strings.
 */
const en: Catalogue = { ...domainEn, ...appEn };
const CATALOGUES: Record<string, Catalogue> = { en };

export const FALLBACK_LANGUAGE = 'en';

export interface Messages {
  lang: string;
  dir: Direction;
  t(key: string, params?: Record<string, string | number>): string;
  has(key: string): boolean;
}

/** The first of the browser's languages we carry (exact tag, then its primary subtag), else English. */
export function pickLanguage(preferred: readonly string[], available: readonly string[] = Object.keys(CATALOGUES)): string {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    const exact = available.find((a) => a.toLowerCase() === lower);
    if (exact) return exact;
    const primary = available.find((a) => a.toLowerCase() === lower.split('-')[0]);
    if (primary) return primary;
  }
  return FALLBACK_LANGUAGE;
}

export function messages(catalogue: Catalogue, fallback: Catalogue = CATALOGUES[FALLBACK_LANGUAGE] ?? {}): Messages {
  const dir: Direction = catalogue.$dir === 'rtl' ? 'rtl' : 'ltr';
  return {
    lang: catalogue.$lang ?? FALLBACK_LANGUAGE,
    dir,
    has: (key) => key in catalogue || key in fallback,
    t(key, params) {
      const template = catalogue[key] ?? fallback[key];
      // A missing key shows itself, so it is noticed (and the catalogue test fails first).
      if (template === undefined) return key;
      return template.replace(/\{(\w+)\}/g, (whole, name: string) => (params && name in params ? String(params[name]) : whole));
    },
  };
}

export function loadMessages(preferred: readonly string[]): Messages {
  const lang = pickLanguage(preferred);
  return messages(CATALOGUES[lang] ?? en);
}

export function catalogues(): Readonly<Record<string, Catalogue>> {
  return CATALOGUES;
}
