/**
 * A case or a safe house as one member can read it, folded from its verified
 * entries in chain order: the browser twin of `CaseView::apply` and
 * `Listing::of` (crates/northstar-client/src/cases.rs, sync.rs).
 *
 * - Fields merge by chain order: the later entry wins, and the value it
 *   replaces stays in the field's history.
 * - Only `summary` carries the workflow, so everyone on the case folds the
 *   same events; an event found in another compartment is skipped as
 *   `wrong-compartment`.
 * - An object is a safe house only when its first `summary` entry is a
 *   fields record with `kind = safehouse`, so a later `case set` cannot turn
 *   a case into a safe house (and hide it from lists and reports). The
 *   capacity is the latest `capacity` field in any `summary` record.
 *   Moves outside `summary`, or on an object that is not a safe house, are
 *   ignored without a trace, as in Rust.
 */
import type { CompartmentName } from '../crypto/codes.js';
import type { RecordBody, Stage, VerifiedEntry } from './record.js';
import { legs } from './pathway.js';
import { parseU32, sortedKeys } from './rust.js';
import { emptySafeHouse, foldHouse, occupancy, type SafeHouse } from './safehouse.js';
import { emptyWorkflow, foldWorkflow, openTasks, type Workflow } from './workflow.js';

/** The `kind` field of a safe house's first `summary` record. */
export const SAFE_HOUSE_KIND = 'safehouse';

/** A field's current value and the values it replaced. */
export interface FieldHistory {
  value: string;
  /** The author's display name. */
  set_by: string;
  seq: number;
  /** Earlier values, oldest first: [value, author, seq]. */
  replaced: [string, string, number][];
}

/** One entry of the object's history, as this member can see it. */
export interface HistoryItem {
  seq: number;
  compartment: CompartmentName;
  author: string;
  /** Null when this member cannot read the compartment. */
  body: RecordBody | null;
}

/** [compartment, author, text, seq]. */
export type Note = [CompartmentName, string, string, number];

/** `CaseView` without what the sync layer adds (id, readable set, chain head), in its serde shape. */
export interface ObjectView {
  fields: Partial<Record<CompartmentName, Record<string, FieldHistory>>>;
  notes: Note[];
  history: HistoryItem[];
  /** Folded from the `summary` events. */
  workflow: Workflow;
  /** Set when the object is a safe house. */
  house: SafeHouse | null;
}

export function emptyObjectView(): ObjectView {
  return { fields: {}, notes: [], history: [], workflow: emptyWorkflow(), house: null };
}

/** `CaseView::apply`: fold the next entry of the chain into `view` (in place). */
export function applyEntry(view: ObjectView, entry: VerifiedEntry): void {
  const { seq, compartment, actor, authorName: author, body } = entry;
  if (body?.kind === 'fields' && compartment === 'summary') {
    const firstSummary = view.history.every((h) => h.compartment !== 'summary');
    if (firstSummary && Object.hasOwn(body.fields, 'kind') && body.fields.kind === SAFE_HOUSE_KIND) view.house = emptySafeHouse();
    const capacity = Object.hasOwn(body.fields, 'capacity') ? parseU32(body.fields.capacity!) : null;
    if (view.house && capacity !== null) view.house.capacity = capacity;
  }
  switch (body?.kind) {
    case 'fields': {
      const slot = (view.fields[compartment] ??= Object.create(null) as Record<string, FieldHistory>);
      for (const name of sortedKeys(body.fields)) {
        const f = (slot[name] ??= { value: '', set_by: '', seq: 0, replaced: [] });
        // As in Rust, "already set" is read from the author's name, so a value
        // first set under an empty name leaves no trace when replaced.
        if (f.set_by !== '') f.replaced.push([f.value, f.set_by, f.seq]);
        f.value = body.fields[name]!;
        f.set_by = author;
        f.seq = seq;
      }
      break;
    }
    case 'note':
      view.notes.push([compartment, author, body.text, seq]);
      break;
    case 'event':
      if (compartment === 'summary') foldWorkflow(view.workflow, seq, actor, body.event);
      else view.workflow.rejected.push([seq, { reason: 'wrong-compartment', compartment }]);
      break;
    case 'house':
      if (compartment === 'summary' && view.house) foldHouse(view.house, seq, actor, body.event);
      break;
    case undefined:
      break;
  }
  view.history.push({ seq, compartment, author, body });
}

/** Fold an object's verified entries, in chain order, into a fresh view. */
export function foldObject(entries: readonly VerifiedEntry[]): ObjectView {
  const view = emptyObjectView();
  for (const entry of entries) applyEntry(view, entry);
  return view;
}

/** A field's current value, whoever may read it (`CaseView::field`). */
export function fieldValue(view: ObjectView, compartment: CompartmentName, name: string): string | null {
  const slot = view.fields[compartment];
  return slot && Object.hasOwn(slot, name) ? slot[name]!.value : null;
}

/**
 * `CaseView::current_fields`: every current value of a compartment, or null
 * when the member holds no key for it (`readable` is the set of
 * compartments the member holds grants for, which sync knows, not the fold).
 */
export function currentFields(view: ObjectView, readable: ReadonlySet<CompartmentName>, compartment: CompartmentName): Record<string, string> | null {
  if (!readable.has(compartment)) return null;
  const out = Object.create(null) as Record<string, string>;
  const slot = view.fields[compartment];
  if (slot) for (const name of sortedKeys(slot)) out[name] = slot[name]!.value;
  return out;
}

/** An open task, as a list shows it. */
export interface ListedTask {
  id: string;
  title: string;
  due: number;
}

/** What a list, the task list and the report show of an object (`Listing::of`, less search text and payments). */
export interface Listing {
  alias: string | null;
  /** Null without `summary`, and for safe houses. */
  stage: Stage | null;
  priority: string | null;
  country: string | null;
  /** Open tasks, earliest due first. */
  tasks: ListedTask[];
  flags: string[];
  opened: string | null;
  destination: string | null;
  pathway: string | null;
  /** `safehouse` for a safe house; null for a case. */
  kind: string | null;
  capacity: number | null;
  occupancy: number | null;
  /** Legs still waiting for their check-in: [leg, check-in due by]. */
  pending_checkins: [number, number][];
}

export function listing(view: ObjectView, readable: ReadonlySet<CompartmentName>): Listing {
  const summary = (name: string) => fieldValue(view, 'summary', name);
  const travel = currentFields(view, readable, 'travel');
  return {
    alias: summary('alias'),
    stage: readable.has('summary') && view.house === null ? view.workflow.stage : null,
    priority: summary('priority'),
    country: summary('country'),
    tasks: openTasks(view.workflow).map(([id, t]) => ({ id, title: t.title, due: t.due })),
    flags: [...view.workflow.flags],
    opened: summary('opened'),
    destination: summary('destination'),
    pathway: summary('pathway'),
    kind: view.house ? SAFE_HOUSE_KIND : null,
    capacity: view.house ? view.house.capacity : null,
    occupancy: view.house ? occupancy(view.house) : null,
    pending_checkins: travel
      ? legs(travel)
          .filter((leg) => leg.checked_in === null && leg.checkin_by !== null)
          .map((leg): [number, number] => [leg.number, leg.checkin_by!])
      : [],
  };
}
