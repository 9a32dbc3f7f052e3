/**
 * The numeric codes of northstar-core that appear inside signed and encrypted
 * formats (compartment.rs, role.rs). They are part of the formats and must
 * never be renumbered.
 */

export const COMPARTMENTS = {
  summary: 1,
  identity: 2,
  story: 3,
  logistics: 4,
  travel: 5,
  finance: 6,
  messages: 7,
  address: 8,
} as const;

export type CompartmentName = keyof typeof COMPARTMENTS;
/** A compartment as its numeric code (1..=8). */
export type Compartment = (typeof COMPARTMENTS)[CompartmentName];

export function isCompartment(code: number): code is Compartment {
  return Number.isInteger(code) && code >= 1 && code <= 8;
}

export function compartmentName(code: Compartment): CompartmentName {
  const entry = Object.entries(COMPARTMENTS).find(([, c]) => c === code);
  if (!entry) throw new RangeError('unknown compartment code');
  return entry[0] as CompartmentName;
}

export const ROLES = {
  admin: 1,
  approver: 2,
  caseworker: 3,
  intake: 4,
  coordinator: 5,
  partner: 6,
  auditor: 7,
} as const;

export type RoleName = keyof typeof ROLES;
export type Role = (typeof ROLES)[RoleName];

export function isRole(code: number): code is Role {
  return Number.isInteger(code) && code >= 1 && code <= 7;
}

export function roleName(code: Role): RoleName {
  const entry = Object.entries(ROLES).find(([, c]) => c === code);
  if (!entry) throw new RangeError('unknown role code');
  return entry[0] as RoleName;
}

/** Only admins may sign membership links (role.rs may_manage_members). */
export function mayManageMembers(role: Role): boolean {
  return role === ROLES.admin;
}
