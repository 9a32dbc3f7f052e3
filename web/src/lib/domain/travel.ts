/**
 * What the travel commands write, and what `sync` writes for a missed
 * check-in (crates/northstar/src/commands.rs: `case pathway`, `case step`,
 * `case leg`, `case checkin`, `case document --pathway`,
 * `raise_missed_checkins`), as pure plans: each returns the records to
 * append, in order, or the refusal the command line prints. Field names
 * follow the scheme in pathway.ts.
 *
 * A plan's `summary` events must still pass `checkWorkflow` against the
 * case as it stands when they are appended, as `workflow_event` in
 * cases.rs checks them; a plan is not a permission.
 *
 * What goes where:
 * - a pathway: `travel` fields `pathway.N.kind` and `pathway.N.destination`;
 *   then, for a member who holds `summary`, `summary` fields `destination`
 *   (the country) and `pathway` (the kind), which everyone on the case sees
 *   and the report counts;
 * - a step: the `travel` field `pathway.N.step.STEP` = the day; recording
 *   `expiry` also adds the task `pathway-N-expiry`, due that day and done at
 *   departure, unless the case already has it (a renewal keeps the old task);
 * - a leg: `travel` fields `leg.N.from`, `.to`, `.depart`, `.checkin_by`;
 *   then, for a member who holds `summary`, the task `checkin-leg-N`, due at
 *   the check-in time (its title names no place);
 * - a check-in: the `travel` field `leg.N.checked_in` = now; then, for a
 *   member who holds `summary`, `checkin-leg-N` done if it is open;
 * - a missed check-in (a leg whose `checkin_by` passed without
 *   `checked_in`, on an open case whose `summary` the member holds): the
 *   task `lost-contact-leg-N`, due when the check-in was (overdue at once),
 *   then the `lost-contact` flag unless it is already raised. The task's id
 *   marks that this was done, so it happens once per leg.
 */
import type { CompartmentName } from '../crypto/codes.js';
import type { Actor, RecordBody, WorkflowEvent } from './record.js';
import { currentFields, listing, type ObjectView } from './object.js';
import { isPathwayKind, isStep, legs, nextNumber, pathways } from './pathway.js';
import { charCount, rustTrim, utf8Length } from './rust.js';
import { parseDue } from './time.js';
import { applyWorkflow, cloneWorkflow, isOpen, type Refusal } from './workflow.js';

/** One record to append. */
export interface Write {
  compartment: CompartmentName;
  body: RecordBody;
}

/** Why a travel command was refused before anything was written. */
export type TravelRefusal =
  | { reason: 'unknown-pathway-kind'; given: string }
  | { reason: 'bad-country' }
  | { reason: 'no-access'; compartment: CompartmentName }
  | { reason: 'unknown-step'; given: string }
  | { reason: 'bad-due'; given: string }
  | { reason: 'step-not-a-day' }
  | { reason: 'no-such-pathway'; number: number }
  | { reason: 'checkin-before-departure' }
  | { reason: 'bad-place' }
  | { reason: 'no-such-leg'; number: number };

export type TravelRefusalReason = TravelRefusal['reason'];

export const TRAVEL_REFUSAL_REASONS: readonly TravelRefusalReason[] = [
  'unknown-pathway-kind',
  'bad-country',
  'no-access',
  'unknown-step',
  'bad-due',
  'step-not-a-day',
  'no-such-pathway',
  'checkin-before-departure',
  'bad-place',
  'no-such-leg',
];

export type TravelPlan =
  | {
      ok: true;
      /** The pathway or leg the plan adds or changes. */
      number: number;
      writes: Write[];
      /** A step `expiry` whose task was already set: the day moves, the task stays. */
      expiryTaskAlreadySet?: boolean;
    }
  | { ok: false; refusal: TravelRefusal };

const MAX_PLACE = 100;

function refused(refusal: TravelRefusal): TravelPlan {
  return { ok: false, refusal };
}

function fields(compartment: CompartmentName, values: Record<string, string>): Write {
  return { compartment, body: { kind: 'fields', fields: values } };
}

function event(e: WorkflowEvent): Write {
  return { compartment: 'summary', body: { kind: 'event', event: e } };
}

/** commands.rs `country`: two ASCII letters, upper-cased. */
export function parseCountry(code: string): string | null {
  return /^[A-Za-z]{2}$/.test(code) ? code.toUpperCase() : null;
}

/** `case pathway ID --kind K --to CC`. */
export function planPathway(view: ObjectView, readable: ReadonlySet<CompartmentName>, kind: string, to: string): TravelPlan {
  if (!isPathwayKind(kind)) return refused({ reason: 'unknown-pathway-kind', given: kind });
  const country = parseCountry(to);
  if (country === null) return refused({ reason: 'bad-country' });
  const travel = currentFields(view, readable, 'travel');
  if (!travel) return refused({ reason: 'no-access', compartment: 'travel' });
  const n = nextNumber(travel, 'pathway');
  const writes = [fields('travel', { [`pathway.${n}.kind`]: kind, [`pathway.${n}.destination`]: country })];
  if (readable.has('summary')) writes.push(fields('summary', { destination: country, pathway: kind }));
  return { ok: true, number: n, writes };
}

/** `case step ID N STEP --on YYYY-MM-DD`. */
export function planStep(view: ObjectView, readable: ReadonlySet<CompartmentName>, pathway: number, step: string, on: string, now: number): TravelPlan {
  if (!isStep(step)) return refused({ reason: 'unknown-step', given: step });
  const day = parseDue(on, now);
  if (day === null) return refused({ reason: 'bad-due', given: on });
  if (utf8Length(on) !== 10) return refused({ reason: 'step-not-a-day' });
  const travel = currentFields(view, readable, 'travel');
  if (!travel) return refused({ reason: 'no-access', compartment: 'travel' });
  if (!pathways(travel).some((p) => p.number === pathway)) return refused({ reason: 'no-such-pathway', number: pathway });
  const writes = [fields('travel', { [`pathway.${pathway}.step.${step}`]: on })];
  if (step !== 'expiry') return { ok: true, number: pathway, writes };
  const task = `pathway-${pathway}-expiry`;
  if (Object.hasOwn(view.workflow.tasks, task)) return { ok: true, number: pathway, writes, expiryTaskAlreadySet: true };
  writes.push(event({ event: 'task', id: task, title: `Pathway ${pathway} expires: depart or renew`, due: day, closes_at: 'departure' }));
  return { ok: true, number: pathway, writes };
}

/** `case leg ID --from A --to B --depart WHEN --checkin-by WHEN`. */
export function planLeg(
  view: ObjectView,
  readable: ReadonlySet<CompartmentName>,
  from: string,
  to: string,
  depart: string,
  checkinBy: string,
  now: number,
): TravelPlan {
  const departAt = parseDue(depart, now);
  if (departAt === null) return refused({ reason: 'bad-due', given: depart });
  const checkinAt = parseDue(checkinBy, now);
  if (checkinAt === null) return refused({ reason: 'bad-due', given: checkinBy });
  if (checkinAt < departAt) return refused({ reason: 'checkin-before-departure' });
  if ([from, to].some((place) => rustTrim(place) === '' || charCount(place) > MAX_PLACE)) return refused({ reason: 'bad-place' });
  const travel = currentFields(view, readable, 'travel');
  if (!travel) return refused({ reason: 'no-access', compartment: 'travel' });
  const n = nextNumber(travel, 'leg');
  const writes = [
    fields('travel', {
      [`leg.${n}.from`]: from,
      [`leg.${n}.to`]: to,
      [`leg.${n}.depart`]: String(departAt),
      [`leg.${n}.checkin_by`]: String(checkinAt),
    }),
  ];
  // Without `summary` the task is not written; the team's sync still sees
  // the leg in travel and raises a missed check-in.
  if (readable.has('summary')) writes.push(event({ event: 'task', id: `checkin-leg-${n}`, title: `Check-in after leg ${n}`, due: checkinAt }));
  return { ok: true, number: n, writes };
}

/** `case checkin ID LEG`, at `now`. */
export function planCheckin(view: ObjectView, readable: ReadonlySet<CompartmentName>, leg: number, now: number): TravelPlan {
  const travel = currentFields(view, readable, 'travel');
  if (!travel) return refused({ reason: 'no-access', compartment: 'travel' });
  if (!legs(travel).some((l) => l.number === leg)) return refused({ reason: 'no-such-leg', number: leg });
  const writes = [fields('travel', { [`leg.${leg}.checked_in`]: String(now) })];
  const task = `checkin-leg-${leg}`;
  const open = Object.hasOwn(view.workflow.tasks, task) && !view.workflow.tasks[task]!.done;
  if (readable.has('summary') && open) writes.push(event({ event: 'task_done', id: task }));
  return { ok: true, number: leg, writes };
}

/**
 * `case document ID NAME --pathway N`: a pathway's checklist items carry its
 * number in their name, so each pathway has its own items and the departure
 * guard still sees them all.
 */
export function pathwayDocumentName(
  view: ObjectView,
  readable: ReadonlySet<CompartmentName>,
  pathway: number,
  name: string,
): { ok: true; name: string } | { ok: false; refusal: TravelRefusal } {
  const travel = currentFields(view, readable, 'travel');
  if (!travel) return { ok: false, refusal: { reason: 'no-access', compartment: 'travel' } };
  if (!pathways(travel).some((p) => p.number === pathway)) return { ok: false, refusal: { reason: 'no-such-pathway', number: pathway } };
  return { ok: true, name: `pathway ${pathway}: ${rustTrim(name)}` };
}

/** What one missed check-in calls for. */
export interface MissedCheckin {
  leg: number;
  /** When the check-in was due. */
  by: number;
  /** The urgent task, then the flag unless it is already raised; empty when refused. */
  events: WorkflowEvent[];
  /** Why `actor` may not write them (a partner, say), or null. */
  refusal: Refusal | null;
}

/**
 * `raise_missed_checkins` for one object: every leg whose check-in was due
 * before `now` and has not come, on an open case whose `summary` and
 * `travel` the member holds, that has not been raised before. Each leg is
 * judged on the case as the legs before it left it, as `sync` re-reads the
 * case between them, so only the first raises the flag.
 */
export function missedCheckins(view: ObjectView, readable: ReadonlySet<CompartmentName>, actor: Actor, now: number): MissedCheckin[] {
  const listed = listing(view, readable);
  if (listed.stage === null) return [];
  const after = cloneWorkflow(view.workflow);
  const out: MissedCheckin[] = [];
  for (const [leg, by] of listed.pending_checkins) {
    if (by >= now) continue;
    const id = `lost-contact-leg-${leg}`;
    if (Object.hasOwn(after.tasks, id) || !isOpen(after.stage)) continue;
    const urgent: WorkflowEvent = { event: 'task', id, title: `URGENT: no check-in after leg ${leg}: reach the safe contact`, due: by };
    const flagged = after.flags.includes('lost-contact');
    // The sequence number only marks transitions and rejections, which a
    // task or a flag never makes.
    const refusal = applyWorkflow(after, 0, actor, urgent);
    if (refusal) {
      out.push({ leg, by, events: [], refusal });
      continue;
    }
    const events: WorkflowEvent[] = [urgent];
    if (!flagged) {
      const flag: WorkflowEvent = { event: 'flag', flag: 'lost-contact', raised: true };
      applyWorkflow(after, 0, actor, flag);
      events.push(flag);
    }
    out.push({ leg, by, events, refusal: null });
  }
  return out;
}
