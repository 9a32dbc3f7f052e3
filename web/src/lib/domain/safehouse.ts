/**
 * Safe houses (northstar-core safehouse.rs): a capacity, who is placed there
 * now, and every move in and out, folded from the house's own chain.
 *
 * Two coordinators placing people into the last bed at once both append to
 * the same chain; chain order decides, and the placement that would exceed
 * the capacity is skipped by every reader and kept, with why, in `rejected`.
 * The state has the shape of the Rust `SafeHouse` in serde JSON.
 */
import type { Actor, HouseEvent, Role } from './record.js';
import { emptyRecord, sortedKeys } from './rust.js';

/** Why a move was refused: `HouseRefusal` as serde writes it. */
export type HouseRefusal =
  | { reason: 'full'; capacity: number }
  | { reason: 'already-placed' }
  | { reason: 'not-placed' }
  | { reason: 'role'; role: Role }
  | { reason: 'bad-case' };

export type HouseRefusalReason = HouseRefusal['reason'];

export const HOUSE_REFUSAL_REASONS: readonly HouseRefusalReason[] = ['full', 'already-placed', 'not-placed', 'role', 'bad-case'];

/** One move in or out. */
export interface Move {
  seq: number;
  case: string;
  moved_in: boolean;
  by: Actor;
}

export interface SafeHouse {
  capacity: number;
  /** Cases placed now → the entry that placed them. Iterate with `occupantList`. */
  occupants: Record<string, number>;
  moves: Move[];
  rejected: [number, HouseRefusal][];
}

export function emptySafeHouse(): SafeHouse {
  return { capacity: 0, occupants: emptyRecord(), moves: [], rejected: [] };
}

function mayPlace(role: Role): boolean {
  return role === 'admin' || role === 'coordinator' || role === 'partner';
}

/** A case id as the chain names it: 32 lower-case hex digits. */
export function isCaseId(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}

export function occupancy(house: SafeHouse): number {
  return Object.keys(house.occupants).length;
}

/** The cases placed now, in id order, with the entry that placed each. */
export function occupantList(house: SafeHouse): [string, number][] {
  return sortedKeys(house.occupants).map((id) => [id, house.occupants[id]!]);
}

/** Whether `actor` may make this move now; null when allowed, else why not. */
export function checkHouse(house: SafeHouse, actor: Actor, event: HouseEvent): HouseRefusal | null {
  if (!mayPlace(actor.role)) return { reason: 'role', role: actor.role };
  if (!isCaseId(event.case)) return { reason: 'bad-case' };
  const placed = Object.hasOwn(house.occupants, event.case);
  if (event.event === 'place') {
    if (placed) return { reason: 'already-placed' };
    if (occupancy(house) >= house.capacity) return { reason: 'full', capacity: house.capacity };
    return null;
  }
  return placed ? null : { reason: 'not-placed' };
}

/** Apply a move if it is allowed (changing `house` in place); returns the refusal, or null. */
export function applyHouse(house: SafeHouse, seq: number, actor: Actor, event: HouseEvent): HouseRefusal | null {
  const refusal = checkHouse(house, actor, event);
  if (refusal) return refusal;
  const movedIn = event.event === 'place';
  if (movedIn) house.occupants[event.case] = seq;
  else delete house.occupants[event.case];
  house.moves.push({ seq, case: event.case, moved_in: movedIn, by: { ...actor } });
  return null;
}

/** Fold one move from the chain: applied, or kept in `rejected`. */
export function foldHouse(house: SafeHouse, seq: number, actor: Actor, event: HouseEvent): void {
  const refusal = applyHouse(house, seq, actor, event);
  if (refusal) house.rejected.push([seq, refusal]);
}
