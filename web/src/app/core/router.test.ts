import { describe, expect, it } from 'vitest';
import { href, parseRoute, section, type Route } from './router.js';

const ID = '0123456789abcdef0123456789abcdef';

describe('routes in the fragment', () => {
  it('round-trip through href', () => {
    const routes: Route[] = [
      { page: 'cases' },
      { page: 'case', id: ID },
      { page: 'intake' },
      { page: 'thread', id: ID },
      { page: 'houses' },
      { page: 'house', id: ID },
      { page: 'tasks' },
      { page: 'reports' },
      { page: 'org' },
    ];
    for (const route of routes) expect(parseRoute(href(route))).toEqual(route);
  });

  it('send anything unknown or malformed home, never to a page with a half-parsed id', () => {
    expect(parseRoute('')).toEqual({ page: 'cases' });
    expect(parseRoute('#/nowhere')).toEqual({ page: 'cases' });
    expect(parseRoute('#/cases/not-an-id')).toEqual({ page: 'cases' });
    expect(parseRoute(`#/cases/${ID.toUpperCase()}`)).toEqual({ page: 'cases' });
    expect(parseRoute('#/houses/<script>')).toEqual({ page: 'houses' });
  });

  it('name the section a page belongs to', () => {
    expect(section({ page: 'case', id: ID })).toBe('cases');
    expect(section({ page: 'thread', id: ID })).toBe('intake');
    expect(section({ page: 'reports' })).toBe('reports');
  });
});
