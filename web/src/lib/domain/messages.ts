/**
 * Message keys for what the domain names and refuses, so the app can show
 * them in the reader's language (web/src/app/i18n, `{name}` placeholders).
 * A parameter that is itself a name (a stage, a role, a compartment) is
 * given as the key of that name, so a translation translates it too; the
 * English catalogue is web/src/app/i18n/domain.en.json.
 *
 * Keys carry the Rust names as serde writes them: `refusal.sign-offs`,
 * `house.refusal.full`, `travel.refusal.no-access`, `stage.intake`,
 * `verdict.not-credible`, `flag.lost-contact`, `pathway.humanitarian-visa`,
 * `step.security-check`.
 */
import type { CompartmentName } from '../crypto/codes.js';
import type { Flag, Role, Stage, Verdict } from './record.js';
import type { HouseRefusal } from './safehouse.js';
import type { TravelRefusal } from './travel.js';
import type { Priority, Refusal } from './workflow.js';
import type { PathwayKind, Step } from './pathway.js';

export type MessageParam = string | number | { key: string };

export interface MessageRef {
  key: string;
  params: Record<string, MessageParam>;
}

export const stageKey = (stage: Stage): string => `stage.${stage}`;
export const flagKey = (flag: Flag): string => `flag.${flag}`;
export const verdictKey = (verdict: Verdict): string => `verdict.${verdict}`;
export const priorityKey = (priority: Priority): string => `priority.${priority}`;
export const roleKey = (role: Role): string => `role.${role}`;
export const compartmentKey = (compartment: CompartmentName): string => `compartment.${compartment}`;
export const pathwayKindKey = (kind: PathwayKind): string => `pathway.${kind}`;
export const stepKey = (step: Step): string => `step.${step}`;

/** A workflow refusal, with its fields as parameters. */
export function refusalMessage(refusal: Refusal): MessageRef {
  const key = `refusal.${refusal.reason}`;
  switch (refusal.reason) {
    case 'ended':
    case 'same':
      return { key, params: { stage: { key: stageKey(refusal.stage) } } };
    case 'not-next':
      return { key, params: { from: { key: stageKey(refusal.from) }, to: { key: stageKey(refusal.to) }, next: { key: stageKey(refusal.next) } } };
    case 'role':
      return { key, params: { role: { key: roleKey(refusal.role) } } };
    case 'sign-offs':
      return { key, params: { have: refusal.have } };
    case 'documents-incomplete':
      return { key, params: { missing: refusal.missing.join(', ') } };
    case 'needs-reason':
      return { key, params: { to: { key: stageKey(refusal.to) } } };
    case 'task-exists':
    case 'no-such-task':
      return { key, params: { id: refusal.id } };
    case 'wrong-compartment':
      return { key, params: { compartment: { key: compartmentKey(refusal.compartment) } } };
    default:
      return { key, params: {} };
  }
}

export function houseRefusalMessage(refusal: HouseRefusal): MessageRef {
  const key = `house.refusal.${refusal.reason}`;
  switch (refusal.reason) {
    case 'full':
      return { key, params: { capacity: refusal.capacity } };
    case 'role':
      return { key, params: { role: { key: roleKey(refusal.role) } } };
    default:
      return { key, params: {} };
  }
}

export function travelRefusalMessage(refusal: TravelRefusal): MessageRef {
  const key = `travel.refusal.${refusal.reason}`;
  switch (refusal.reason) {
    case 'unknown-pathway-kind':
    case 'unknown-step':
    case 'bad-due':
      return { key, params: { given: refusal.given } };
    case 'no-access':
      return { key, params: { compartment: { key: compartmentKey(refusal.compartment) } } };
    case 'no-such-pathway':
    case 'no-such-leg':
      return { key, params: { number: refusal.number } };
    default:
      return { key, params: {} };
  }
}

/** Fill a message with `t` (the app's `Messages.t`), translating the names among its parameters first. */
export function renderMessage(message: MessageRef, t: (key: string, params?: Record<string, string | number>) => string): string {
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(message.params)) params[name] = typeof value === 'object' ? t(value.key) : value;
  return t(message.key, params);
}
