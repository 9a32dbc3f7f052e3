/**
 * What the pages do to cases, as the command line does it
 * (crates/northstar/src/commands.rs), so a case worked in the browser reads
 * the same in the terminal and the other way round: the same records, the
 * same field names, the same checks before anything is appended.
 *
 * Every workflow change is checked against the case as it stands (the
 * domain twin of northstar-core) before it is sealed, so an honest client
 * never writes an event everyone would skip; after the append the case is
 * read again and an event that lost a race is reported, not hidden.
 */
import type { CaseView } from '../core/cases.js';
import type { CompartmentName } from '../../lib/crypto/codes.js';
import type { Actor, HouseEvent, WorkflowEvent } from '../../lib/domain/record.js';
import { foldObject, type ObjectView } from '../../lib/domain/object.js';
import { checkWorkflow, deadlineTasks, type Priority, type Refusal } from '../../lib/domain/workflow.js';
import { checkHouse, type HouseRefusal } from '../../lib/domain/safehouse.js';
import { planCheckin, planLeg, planPathway, planStep, type TravelPlan, type TravelRefusal } from '../../lib/domain/travel.js';
import type { Workspace } from './workspace.svelte.js';

/** A rule of the workflow or of a safe house said no: shown with its reason, nothing was written. */
export class Refused extends Error {
  constructor(
    readonly refusal:
      | Refusal
      | { reason: 'house'; refusal: HouseRefusal }
      | { reason: 'lost-race'; inner: Refusal | { reason: 'house'; refusal: HouseRefusal } }
      | { reason: 'travel'; refusal: TravelRefusal }
      | { reason: 'invalid'; what: string },
  ) {
    super(refusal.reason);
    this.name = 'Refused';
  }
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function myActor(ws: Workspace): Actor {
  const me = ws.me;
  if (!me) throw new Refused({ reason: 'invalid', what: 'not-a-member' });
  return { account: me.accountId, role: me.role as Actor['role'] };
}

/** Views are replaced, never changed, so a view's fold is computed once (the list folds every case on each change). */
const folds = new WeakMap<CaseView, ObjectView>();

export function fold(view: CaseView): ObjectView {
  let folded = folds.get(view);
  if (!folded) {
    folded = foldObject(view.entries);
    folds.set(view, folded);
  }
  return folded;
}

/** `case new`: the summary, then the priority's deadline tasks. */
export async function newCase(ws: Workspace, alias: string, priority: Priority, country: string): Promise<string> {
  const trimmed = alias.trim();
  if (trimmed === '' || trimmed.length > 200) throw new Refused({ reason: 'invalid', what: 'alias' });
  const summary: Record<string, string> = { alias: trimmed, priority, opened: new Date().toISOString().slice(0, 10) };
  if (country.trim() !== '') {
    if (!/^[A-Za-z]{2}$/.test(country.trim())) throw new Refused({ reason: 'invalid', what: 'country' });
    summary.country = country.trim().toUpperCase();
  }
  const id = await ws.cases.createCase(summary);
  for (const task of deadlineTasks(priority, nowSeconds())) await workflowEvent(ws, id, task);
  return id;
}

/** `case workflow …`: check, append to `summary`, read back, and report a lost race. */
export async function workflowEvent(ws: Workspace, caseId: string, event: WorkflowEvent): Promise<ObjectView> {
  const before = fold(await ws.read(caseId));
  const refusal = checkWorkflow(before.workflow, myActor(ws), event);
  if (refusal) throw new Refused(refusal);
  const seq = await ws.cases.append(caseId, 'summary', { kind: 'event', event });
  const after = fold(await ws.read(caseId));
  const lost = after.workflow.rejected.find(([s]) => s === seq);
  if (lost) throw new Refused({ reason: 'lost-race', inner: lost[1] });
  return after;
}

/** `case set`: one record of fields in one compartment. */
export async function setFields(ws: Workspace, caseId: string, compartment: CompartmentName, fields: Record<string, string>): Promise<void> {
  await ws.cases.append(caseId, compartment, { kind: 'fields', fields });
  await ws.read(caseId);
}

export async function addNote(ws: Workspace, caseId: string, compartment: CompartmentName, text: string): Promise<void> {
  if (text.trim() === '') throw new Refused({ reason: 'invalid', what: 'note' });
  await ws.cases.append(caseId, compartment, { kind: 'note', text });
  await ws.read(caseId);
}

/**
 * Carry out a plan of the domain twin (travel.ts mirrors `case pathway`,
 * `case step`, `case leg`, `case checkin`): fields are appended as they are,
 * workflow events go through `workflowEvent` so they are checked first.
 */
async function carryOut(ws: Workspace, caseId: string, plan: TravelPlan): Promise<number> {
  if (!plan.ok) throw new Refused({ reason: 'travel', refusal: plan.refusal });
  for (const write of plan.writes) {
    if (write.body.kind === 'event') await workflowEvent(ws, caseId, write.body.event);
    else await ws.cases.append(caseId, write.compartment, write.body);
  }
  await ws.read(caseId);
  return plan.number;
}

async function current(ws: Workspace, caseId: string): Promise<[ObjectView, Set<CompartmentName>]> {
  const view = await ws.read(caseId);
  return [fold(view), new Set(view.readable)];
}

/** `case pathway`: a numbered pathway in `travel`, and its destination in `summary` when readable. */
export async function addPathway(ws: Workspace, caseId: string, kind: string, destination: string): Promise<number> {
  const [view, readable] = await current(ws, caseId);
  return carryOut(ws, caseId, planPathway(view, readable, kind, destination.trim()));
}

/** `case step`: a checklist step of a pathway, by day; the expiry step adds a task due that day. */
export async function recordStep(ws: Workspace, caseId: string, pathway: number, step: string, day: string): Promise<number> {
  const [view, readable] = await current(ws, caseId);
  return carryOut(ws, caseId, planStep(view, readable, pathway, step, day, nowSeconds()));
}

/** `case leg`: a leg of the journey with a check-in deadline (times as `YYYY-MM-DDTHH:MM`, UTC). */
export async function addLeg(ws: Workspace, caseId: string, from: string, to: string, depart: string, checkinBy: string): Promise<number> {
  const [view, readable] = await current(ws, caseId);
  return carryOut(ws, caseId, planLeg(view, readable, from, to, depart, checkinBy, nowSeconds()));
}

/** `case checkin`: the person arrived safely after a leg; closes the leg's check-in task. */
export async function checkIn(ws: Workspace, caseId: string, leg: number): Promise<number> {
  const [view, readable] = await current(ws, caseId);
  return carryOut(ws, caseId, planCheckin(view, readable, leg, nowSeconds()));
}

/** `safehouse new`: an object of its own with a summary (code name, capacity) and an address. */
export async function newHouse(ws: Workspace, codeName: string, capacity: number, address: string): Promise<string> {
  if (codeName.trim() === '' || [...codeName].length > 64) throw new Refused({ reason: 'invalid', what: 'code-name' });
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1000) throw new Refused({ reason: 'invalid', what: 'capacity' });
  if (address.trim() === '') throw new Refused({ reason: 'invalid', what: 'address' });
  const id = await ws.cases.createObject(
    ['summary', 'address'],
    [
      { compartment: 'summary', body: { kind: 'fields', fields: { kind: 'safehouse', alias: codeName, capacity: String(capacity) } } },
      { compartment: 'address', body: { kind: 'fields', fields: { address } } },
    ],
  );
  await ws.refresh();
  return id;
}

/**
 * `safehouse place` / `safehouse release`: the case's `logistics` must be
 * writable (the placement is recorded there too); the move is checked
 * against the house as it stands (capacity, who is there), appended to the
 * house's chain, then noted in the case.
 */
export async function houseEvent(ws: Workspace, houseId: string, event: HouseEvent): Promise<ObjectView> {
  const caseView = await ws.read(event.case);
  if (!caseView.readable.includes('logistics')) throw new Refused({ reason: 'invalid', what: 'no-logistics' });
  const houseView = await ws.read(houseId);
  const before = fold(houseView);
  if (!before.house) throw new Refused({ reason: 'invalid', what: 'not-a-house' });
  const refusal = checkHouse(before.house, myActor(ws), event);
  if (refusal) throw new Refused({ reason: 'house', refusal });
  const seq = await ws.cases.append(houseId, 'summary', { kind: 'house', event });
  const after = fold(await ws.read(houseId));
  const lost = after.house?.rejected.find(([s]) => s === seq);
  if (lost) throw new Refused({ reason: 'lost-race', inner: { reason: 'house', refusal: lost[1] } });
  const codeName = before.fields.summary?.alias?.value ?? '?';
  const today = new Date().toISOString().slice(0, 10);
  const fields: Record<string, string> = event.event === 'place' ? { safe_house: codeName, placed_on: today } : { safe_house: '', released_on: today };
  await ws.cases.append(event.case, 'logistics', { kind: 'fields', fields });
  await ws.read(event.case);
  return after;
}

/** A refusal in the person's words (the catalogue's `refusal.*`, `house.refusal.*`, `travel.refusal.*` and `invalid.*`). */
export function describeRefusal(e: Refused, t: (key: string, params?: Record<string, string | number>) => string): string {
  const r = e.refusal;
  if (r.reason === 'lost-race') return t('refusal.lost-race', { detail: describeRefusal(new Refused(r.inner), t) });
  if (r.reason === 'invalid') return t(`invalid.${r.what}`);
  const [prefix, inner] = r.reason === 'travel' ? ['travel.', r.refusal] : r.reason === 'house' ? ['house.', r.refusal] : ['', r];
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(inner)) {
    if (name === 'reason') continue;
    params[name] = Array.isArray(value) ? value.join(', ') : (value as string | number);
  }
  for (const name of ['stage', 'from', 'to', 'next'] as const) if (typeof params[name] === 'string') params[name] = t(`stage.${params[name]}`);
  if (typeof params.role === 'string') params.role = t(`role.${params.role}`);
  if (typeof params.compartment === 'string') params.compartment = t(`compartment.${params.compartment}`);
  return t(`${prefix}refusal.${inner.reason}`, params);
}

/** `case verdict`: the signed verdict in `summary`, its reasoning as a note in `story`. */
export async function recordVerdict(ws: Workspace, caseId: string, result: 'credible' | 'not-credible', reason: string): Promise<void> {
  if (reason.trim() === '') throw new Refused({ reason: 'invalid', what: 'verdict-reason' });
  const view = await ws.read(caseId);
  if (!view.readable.includes('story')) throw new Refused({ reason: 'invalid', what: 'verdict-story' });
  await workflowEvent(ws, caseId, { event: 'verdict', result });
  await ws.cases.append(caseId, 'story', { kind: 'note', text: `Verification verdict: ${result} — ${reason}` });
  await ws.read(caseId);
}
