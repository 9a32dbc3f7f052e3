import { describe, expect, it } from 'vitest';
import type { CaseListing } from '../core/cases.js';
import { filterCases, indexListings, NO_FILTER } from './search.js';

function listing(n: number, summary: Record<string, string>, stage = 'intake'): CaseListing {
  const caseId = n.toString(16).padStart(32, '0');
  return {
    caseId,
    kind: summary.kind === 'safehouse' ? 'safehouse' : 'case',
    alias: summary.alias ?? null,
    priority: summary.priority ?? null,
    country: summary.country ?? null,
    opened: null,
    stage: stage as CaseListing['stage'],
    entries: 1,
    summary,
  };
}

describe('the case list', () => {
  const all = [
    listing(1, { alias: 'Birch', priority: 'normal', country: 'RU' }),
    listing(2, { alias: 'Aspen', priority: 'urgent', country: 'TJ' }, 'verification'),
    listing(3, { alias: 'Cedar', priority: 'emergency', country: 'RU' }, 'verification'),
    listing(4, { kind: 'safehouse', alias: 'House' }),
  ];

  it('lists cases, not safe houses, overdue first, then emergency before urgent before normal', () => {
    const index = indexListings(all, new Set([all[0]!.caseId]));
    expect(index.map((c) => c.listing.alias)).toEqual(['Birch', 'Cedar', 'Aspen']);
  });

  it('finds by any summary field or the id, ignoring case, and combines filters', () => {
    const index = indexListings(all, new Set());
    expect(filterCases(index, { ...NO_FILTER, text: 'ru' }).map((c) => c.listing.alias)).toEqual(['Cedar', 'Birch']);
    expect(filterCases(index, { ...NO_FILTER, text: '0003' }).map((c) => c.listing.alias)).toEqual(['Cedar']);
    expect(filterCases(index, { ...NO_FILTER, text: 'RU', stage: 'verification' }).map((c) => c.listing.alias)).toEqual(['Cedar']);
    expect(filterCases(index, { ...NO_FILTER, priority: 'urgent' }).map((c) => c.listing.alias)).toEqual(['Aspen']);
    expect(filterCases(index, { ...NO_FILTER, text: 'nowhere' })).toEqual([]);
  });

  it('keeps only overdue cases when asked', () => {
    const index = indexListings(all, new Set([all[2]!.caseId]));
    expect(filterCases(index, { ...NO_FILTER, overdueOnly: true }).map((c) => c.listing.alias)).toEqual(['Cedar']);
  });
});
