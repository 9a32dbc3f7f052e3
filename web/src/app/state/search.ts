/**
 * Searching and filtering the case list, in memory: every listing is indexed
 * once (a lower-case haystack of its id and summary fields), so a keystroke
 * over 10,000 cases is one pass of `includes`.
 */
import type { CaseListing } from '../core/cases.js';

export interface CaseFilter {
  text: string;
  stage: string;
  priority: string;
  overdueOnly: boolean;
}

export const NO_FILTER: CaseFilter = { text: '', stage: '', priority: '', overdueOnly: false };

export interface Indexed {
  listing: CaseListing;
  haystack: string;
  overdue: boolean;
}

const PRIORITY_ORDER: Record<string, number> = { emergency: 0, urgent: 1, normal: 2 };

export function indexListings(listings: readonly CaseListing[], overdue: ReadonlySet<string>): Indexed[] {
  return listings
    .filter((l) => l.kind === 'case')
    .map((listing) => ({
      listing,
      overdue: overdue.has(listing.caseId),
      haystack: [listing.caseId, ...Object.values(listing.summary)].join('\u0000').toLocaleLowerCase(),
    }))
    .sort(
      (a, b) =>
        Number(b.overdue) - Number(a.overdue) ||
        (PRIORITY_ORDER[a.listing.priority ?? ''] ?? 4) - (PRIORITY_ORDER[b.listing.priority ?? ''] ?? 4) ||
        (a.listing.alias ?? '').localeCompare(b.listing.alias ?? '') ||
        a.listing.caseId.localeCompare(b.listing.caseId),
    );
}

export function filterCases(index: readonly Indexed[], filter: CaseFilter): Indexed[] {
  const needle = filter.text.trim().toLocaleLowerCase();
  return index.filter(
    (c) =>
      (needle === '' || c.haystack.includes(needle)) &&
      (filter.stage === '' || c.listing.stage === filter.stage) &&
      (filter.priority === '' || c.listing.priority === filter.priority) &&
      (!filter.overdueOnly || c.overdue),
  );
}
