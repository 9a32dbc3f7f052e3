/**
 * A record's plaintext, as crates/northstar-client/src/cases.rs `RecordBody`
 * serializes it (serde JSON, tagged by `kind`), and the actor who wrote it.
 * The browser twin of northstar-core's types: the same JSON in both
 * directions, so a case written by the command line folds the same here.
 */
import type { CompartmentName } from '../crypto/codes.js';

export type Role = 'admin' | 'approver' | 'caseworker' | 'intake' | 'coordinator' | 'partner' | 'auditor';

export type Stage =
  | 'intake'
  | 'screening'
  | 'verification'
  | 'accepted'
  | 'protection'
  | 'pathway'
  | 'departure'
  | 'arrival'
  | 'resettlement'
  | 'closed'
  | 'declined'
  | 'withdrawn';

export type Verdict = 'credible' | 'not-credible';
export type Flag = 'lost-contact' | 'on-hold' | 'threat-reported';

/** northstar-core `Event` (serde tag `event`, snake_case). */
export type WorkflowEvent =
  | { event: 'advance'; to: Stage; reason?: string; referral?: string }
  | { event: 'verdict'; result: Verdict }
  | { event: 'sign_off' }
  | { event: 'document'; name: string; done: boolean }
  | { event: 'flag'; flag: Flag; raised: boolean }
  | { event: 'task'; id: string; title: string; due: number; closes_at?: Stage }
  | { event: 'task_done'; id: string };

/** northstar-core `HouseEvent`. */
export type HouseEvent = { event: 'place'; case: string } | { event: 'release'; case: string };

/** northstar-client `RecordBody` (serde tag `kind`, snake_case). */
export type RecordBody =
  | { kind: 'fields'; fields: Record<string, string> }
  | { kind: 'note'; text: string }
  | { kind: 'event'; event: WorkflowEvent }
  | { kind: 'house'; event: HouseEvent };

/** Who wrote an entry: the account id (hex) and role, as the verified membership chain says. */
export interface Actor {
  account: string;
  role: Role;
}

/** One verified entry of an object's chain, as this member can see it. */
export interface VerifiedEntry {
  seq: number;
  compartment: CompartmentName;
  actor: Actor;
  /** The author's display name from the membership chain. */
  authorName: string;
  /** `null` when this member holds no key for the compartment. */
  body: RecordBody | null;
}
