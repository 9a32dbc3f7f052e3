/**
 * Which compartments an object has, and the roles, by name (compartment.rs,
 * role.rs). The numeric codes live with the formats in ../crypto/codes.ts.
 */
import type { CompartmentName } from '../crypto/codes.js';
import type { Role } from './record.js';

/** `Compartment::ALL`, in code order. */
export const COMPARTMENT_NAMES: readonly CompartmentName[] = ['summary', 'identity', 'story', 'logistics', 'travel', 'finance', 'messages', 'address'];

/** `Compartment::OF_CASE` (brief §3). */
export const CASE_COMPARTMENTS: readonly CompartmentName[] = ['summary', 'identity', 'story', 'logistics', 'travel', 'finance', 'messages'];

/** `Compartment::OF_SAFE_HOUSE`: what the whole team may see, and the address apart. */
export const SAFE_HOUSE_COMPARTMENTS: readonly CompartmentName[] = ['summary', 'address'];

export type ObjectKind = 'case' | 'safe-house';

/** `Compartment::belongs_to`. */
export function belongsTo(compartment: CompartmentName, kind: ObjectKind): boolean {
  return (kind === 'case' ? CASE_COMPARTMENTS : SAFE_HOUSE_COMPARTMENTS).includes(compartment);
}

/** `Role::ALL`, in code order. */
export const ROLE_NAMES: readonly Role[] = ['admin', 'approver', 'caseworker', 'intake', 'coordinator', 'partner', 'auditor'];

export function isRoleName(name: string): name is Role {
  return (ROLE_NAMES as readonly string[]).includes(name);
}

export function isCompartmentName(name: string): name is CompartmentName {
  return (COMPARTMENT_NAMES as readonly string[]).includes(name);
}

/** `Ord for Compartment`: code order, which is the order of `COMPARTMENT_NAMES`. */
export function compareCompartments(a: CompartmentName, b: CompartmentName): number {
  return COMPARTMENT_NAMES.indexOf(a) - COMPARTMENT_NAMES.indexOf(b);
}
