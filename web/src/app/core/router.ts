/**
 * Where the app is, kept in the URL's fragment (`#/cases/…`): the fragment
 * never reaches the server, so no case id, search term or filter is ever in
 * a request line or a server log, and the browser's back button works.
 */

export type Route =
  | { page: 'cases' }
  | { page: 'case'; id: string }
  | { page: 'intake' }
  | { page: 'thread'; id: string }
  | { page: 'houses' }
  | { page: 'house'; id: string }
  | { page: 'tasks' }
  | { page: 'reports' }
  | { page: 'org' };

export const HOME: Route = { page: 'cases' };

const ID = /^[0-9a-f]{32}$/;
const THREAD = /^[0-9a-f]{32}$/;

/** The route a fragment names; anything unknown is the home page. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [first, second] = parts;
  switch (first) {
    case 'cases':
      return second && ID.test(second) ? { page: 'case', id: second } : { page: 'cases' };
    case 'intake':
      return second && THREAD.test(second) ? { page: 'thread', id: second } : { page: 'intake' };
    case 'houses':
      return second && ID.test(second) ? { page: 'house', id: second } : { page: 'houses' };
    case 'tasks':
    case 'reports':
    case 'org':
      return { page: first };
    default:
      return HOME;
  }
}

export function href(route: Route): string {
  switch (route.page) {
    case 'case':
      return `#/cases/${route.id}`;
    case 'thread':
      return `#/intake/${route.id}`;
    case 'house':
      return `#/houses/${route.id}`;
    default:
      return `#/${route.page}`;
  }
}

/** The top-level section a route belongs to (for the navigation's `aria-current`). */
export function section(route: Route): 'cases' | 'intake' | 'houses' | 'tasks' | 'reports' | 'org' {
  switch (route.page) {
    case 'case':
      return 'cases';
    case 'thread':
      return 'intake';
    case 'house':
      return 'houses';
    default:
      return route.page;
  }
}
