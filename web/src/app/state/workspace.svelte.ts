/**
 * The signed-in member's working state, shared by every page: the verified
 * organization, the case client (memory only, wiped on Lock) and what the
 * list pages show. Pages read the `$state` fields and call the methods; the
 * methods never swallow an error, they leave it in `problem` worded for the
 * person (the server served something wrong, or refused).
 */
import { ApiError } from '../core/api.js';
import { CaseClient, CaseError, HeadPins, IndexedDbCacheStore, expireCaches, type CacheStore, type CaseListing, type CaseView } from '../core/cases.js';
import type { OrgView } from '../core/org.js';
import type { UnlockedSession } from '../core/session.js';
import { IntakeError, intakeQueue, type IntakeQueue } from '../core/intake.js';

export type Translate = (key: string, params?: Record<string, string | number>) => string;

/** One problem to show, with whether the server is to blame (shown as a warning, not a mere error). */
export interface Problem {
  text: string;
  serverFault: boolean;
}

const SERVER_FAULTS = new Set(['rollback', 'fork', 'tampered', 'server_changed', 'protocol']);

/** Words for any error a page can meet, from the catalogue. */
export function describe(e: unknown, t: Translate): Problem {
  if (e instanceof CaseError) {
    const key = `case.error.${e.reason}`;
    const worded = t(key, { detail: e.message });
    return { text: worded === key ? e.message : worded, serverFault: SERVER_FAULTS.has(e.reason) };
  }
  if (e instanceof IntakeError) {
    const key = `intake.error.${e.reason}`;
    const worded = t(key, { detail: e.message });
    return { text: worded === key ? e.message : worded, serverFault: SERVER_FAULTS.has(e.reason) };
  }
  if (e instanceof ApiError) {
    const key = `error.${e.code}`;
    const worded = t(key, { detail: e.message });
    return { text: worded === key ? t('error.server', { detail: e.message }) : worded, serverFault: false };
  }
  // Other typed errors of the core (AccountError, OrgError) word themselves for people.
  return { text: e instanceof Error ? e.message : String(e), serverFault: false };
}

/**
 * This browser's sealed copy of the members' cases (core/casecache.ts): one
 * per page, shared by whoever signs in here. Copies left unopened for
 * longer than the expiry are deleted at start, before anyone signs in.
 */
export const browserCache: CacheStore = new IndexedDbCacheStore();

export function sweepExpiredCaches(): Promise<unknown> {
  return expireCaches(browserCache).catch(() => undefined);
}

export class Workspace {
  org = $state.raw<OrgView>() as OrgView;
  listings = $state.raw<CaseListing[]>([]);
  /** Full views read this page's life, by case id (every entry verified from 0). */
  views = $state.raw<ReadonlyMap<string, CaseView>>(new Map());
  refused = $state.raw<CaseError[]>([]);
  syncing = $state(false);
  synced = $state(false);
  problem = $state.raw<Problem | null>(null);
  intake = $state.raw<IntakeQueue | null>(null);
  intakeAll = $state(false);
  readonly cases: CaseClient;

  constructor(
    readonly session: UnlockedSession,
    org: OrgView,
    pins: HeadPins,
    private readonly t: Translate,
  ) {
    this.org = org;
    this.cases = new CaseClient(session, org, pins, { store: browserCache });
  }

  /** After the membership chain was verified again (a new member, a removal). */
  setOrg(org: OrgView): void {
    this.org = org;
    this.cases.setOrg(org);
  }

  get me() {
    return this.org.members.find((m) => m.isMe);
  }

  get role(): string {
    return this.me?.role ?? 'auditor';
  }

  /** The display name of an account (hex), from the verified chain. */
  memberName(account: string): string {
    return this.org.members.find((m) => m.accountId === account)?.name ?? account.slice(0, 8);
  }

  fail(e: unknown): Problem {
    const problem = describe(e, this.t);
    this.problem = problem;
    return problem;
  }

  /**
   * The first paint from what this browser verified before, then `first`
   * (an admin's upkeep, which may create the intake desk: listing before it
   * is published would show the desk as a case), then the first sync.
   */
  async start(first: () => Promise<void>): Promise<void> {
    this.syncing = true;
    try {
      this.listings = await this.cases.cachedListings();
    } catch (e) {
      if (!this.session.locked) this.fail(e);
    }
    await first();
    await this.refresh();
  }

  /** Sync every case and refresh the lists. */
  async refresh(): Promise<void> {
    if (this.session.locked) return;
    this.syncing = true;
    try {
      const result = await this.cases.list();
      this.listings = this.cases.listings();
      this.refused = result.refused;
      const views = new Map(this.views);
      for (const view of result.cases) views.set(view.caseId, view);
      for (const gone of result.removed) views.delete(gone);
      this.views = views;
      this.synced = true;
    } catch (e) {
      if (!this.session.locked) this.fail(e);
    } finally {
      this.syncing = false;
    }
  }

  /** Read one case whole (every entry verified from the first) and keep the view. */
  async read(caseId: string): Promise<CaseView> {
    const view = await this.cases.read(caseId);
    const views = new Map(this.views);
    views.set(caseId, view);
    this.views = views;
    this.listings = this.cases.listings();
    return view;
  }

  /** Open the intake queue (every check of the Rust client: the published key, the staff notes). */
  async loadIntake(): Promise<void> {
    this.intake = await intakeQueue(this.session, this.org, { all: this.intakeAll });
  }
}
