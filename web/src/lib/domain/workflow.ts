/**
 * The relocation workflow (northstar-core workflow.rs): a case's stage,
 * flags and guards, moved only by signed events folded in chain order.
 *
 * Every client folds the same events in the same order, so every member who
 * reads a case's `summary` sees the same stage, in the browser as on the
 * command line. An event that breaks a rule can still reach the chain (the
 * server cannot read it); it is skipped by everyone and kept, with its
 * reason, in `rejected`. `checkWorkflow` runs before an append, so an honest
 * client never writes an event that everyone will skip.
 *
 * The state has exactly the shape of the Rust `Workflow` in serde JSON (the
 * same field names, tuples as arrays, `null` for `None`), so either side can
 * read what the other wrote and the shared vectors compare it whole.
 */
import type { CompartmentName } from '../crypto/codes.js';
import type { Actor, Flag, Role, Stage, Verdict, WorkflowEvent } from './record.js';
import { charCount, compareRust, emptyRecord, rustTrim, sortedKeys } from './rust.js';

/** `Stage::ALL`: the path in order, then the two other endings. */
export const STAGES: readonly Stage[] = [
  'intake',
  'screening',
  'verification',
  'accepted',
  'protection',
  'pathway',
  'departure',
  'arrival',
  'resettlement',
  'closed',
  'declined',
  'withdrawn',
];

export const FLAGS: readonly Flag[] = ['lost-contact', 'on-hold', 'threat-reported'];
export const VERDICTS: readonly Verdict[] = ['credible', 'not-credible'];

export type Priority = 'emergency' | 'urgent' | 'normal';
export const PRIORITIES: readonly Priority[] = ['emergency', 'urgent', 'normal'];

export function isStage(name: string): name is Stage {
  return (STAGES as readonly string[]).includes(name);
}

export function isFlag(name: string): name is Flag {
  return (FLAGS as readonly string[]).includes(name);
}

export function isVerdict(name: string): name is Verdict {
  return (VERDICTS as readonly string[]).includes(name);
}

export function isPriority(name: string): name is Priority {
  return (PRIORITIES as readonly string[]).includes(name);
}

/** Whether the case is still being worked on. */
export function isOpen(stage: Stage): boolean {
  return stage !== 'closed' && stage !== 'declined' && stage !== 'withdrawn';
}

/** The next stage on the path; null once the case has ended. */
export function nextStage(stage: Stage): Stage | null {
  if (!isOpen(stage)) return null;
  return STAGES[STAGES.indexOf(stage) + 1] ?? null;
}

/** The seconds a priority's deadlines give (brief §2). */
const ACKNOWLEDGE_WITHIN = 2 * 3600;
const EMERGENCY_DEPARTS_WITHIN = 7 * 86_400;

/**
 * `Priority::deadline_tasks`: the tasks a new case of this priority starts
 * with. Every request is acknowledged within two hours (done when the case
 * reaches screening); an emergency case departs within seven days.
 */
export function deadlineTasks(priority: Priority, now: number): WorkflowEvent[] {
  const tasks: WorkflowEvent[] = [
    { event: 'task', id: 'acknowledge', title: 'Acknowledge the request', due: now + ACKNOWLEDGE_WITHIN, closes_at: 'screening' },
  ];
  if (priority === 'emergency') {
    tasks.push({ event: 'task', id: 'depart', title: 'Emergency: depart within 7 days', due: now + EMERGENCY_DEPARTS_WITHIN, closes_at: 'departure' });
  }
  return tasks;
}

/** Something to do on a case by a time (unix seconds, UTC). */
export interface Task {
  title: string;
  due: number;
  done: boolean;
  /** Done by itself when the case reaches this stage. */
  closes_at: Stage | null;
}

/** A stage change, as history. */
export interface Transition {
  seq: number;
  from: Stage;
  to: Stage;
  by: Actor;
  reason: string | null;
}

/** Why a workflow event was refused: `Refusal` as serde writes it (tag `reason`, kebab-case). */
export type Refusal =
  | { reason: 'ended'; stage: Stage }
  | { reason: 'not-next'; from: Stage; to: Stage; next: Stage }
  | { reason: 'same'; stage: Stage }
  | { reason: 'role'; role: Role }
  | { reason: 'no-verdict' }
  | { reason: 'not-credible' }
  | { reason: 'sign-offs'; have: number }
  | { reason: 'second-not-approver' }
  | { reason: 'signed-twice' }
  | { reason: 'sign-off-out-of-stage' }
  | { reason: 'verdict-out-of-stage' }
  | { reason: 'verdict-twice' }
  | { reason: 'documents-incomplete'; missing: string[] }
  | { reason: 'no-documents' }
  | { reason: 'needs-reason'; to: Stage }
  | { reason: 'bad-document' }
  | { reason: 'too-long' }
  | { reason: 'bad-task' }
  | { reason: 'task-exists'; id: string }
  | { reason: 'no-such-task'; id: string }
  | { reason: 'wrong-compartment'; compartment: CompartmentName };

export type RefusalReason = Refusal['reason'];

/** Every refusal reason, in the order of the Rust enum. */
export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'ended',
  'not-next',
  'same',
  'role',
  'no-verdict',
  'not-credible',
  'sign-offs',
  'second-not-approver',
  'signed-twice',
  'sign-off-out-of-stage',
  'verdict-out-of-stage',
  'verdict-twice',
  'documents-incomplete',
  'no-documents',
  'needs-reason',
  'bad-document',
  'too-long',
  'bad-task',
  'task-exists',
  'no-such-task',
  'wrong-compartment',
];

/** The folded state of a case's workflow. */
export interface Workflow {
  stage: Stage;
  verdict: [Verdict, Actor] | null;
  /** Sign-offs for acceptance, in order. */
  sign_offs: Actor[];
  /** The departure checklist: document → done. Iterate with `documentList`. */
  documents: Record<string, boolean>;
  /** In the order of `FLAGS`. */
  flags: Flag[];
  /** Tasks by id. Iterate with `openTasks` or `sortedKeys`. */
  tasks: Record<string, Task>;
  /** Why the case was declined, withdrawn or closed, and any referral. */
  end_reason: string | null;
  referral: string | null;
  transitions: Transition[];
  /** Events that reached the chain but broke a rule: skipped by everyone. */
  rejected: [number, Refusal][];
}

export function emptyWorkflow(): Workflow {
  return {
    stage: 'intake',
    verdict: null,
    sign_offs: [],
    documents: emptyRecord(),
    flags: [],
    tasks: emptyRecord(),
    end_reason: null,
    referral: null,
    transitions: [],
    rejected: [],
  };
}

/** A deep copy, to try events on without touching the original. */
export function cloneWorkflow(w: Workflow): Workflow {
  const documents = emptyRecord<boolean>();
  for (const name of Object.keys(w.documents)) documents[name] = w.documents[name]!;
  const tasks = emptyRecord<Task>();
  for (const id of Object.keys(w.tasks)) tasks[id] = { ...w.tasks[id]! };
  return {
    stage: w.stage,
    verdict: w.verdict ? [w.verdict[0], { ...w.verdict[1] }] : null,
    sign_offs: w.sign_offs.map((a) => ({ ...a })),
    documents,
    flags: [...w.flags],
    tasks,
    end_reason: w.end_reason,
    referral: w.referral,
    transitions: w.transitions.map((t) => ({ ...t, by: { ...t.by } })),
    rejected: w.rejected.map(([seq, refusal]) => [seq, structuredClone(refusal)]),
  };
}

const MAX_TEXT = 2000;
const MAX_DOCUMENT_NAME = 100;
const MAX_TASK_ID = 32;
const MAX_TASK_TITLE = 200;

/** Roles that run cases. Partners and auditors only ever see what is shared. */
function mayRunCases(role: Role): boolean {
  return role === 'admin' || role === 'approver' || role === 'caseworker' || role === 'intake' || role === 'coordinator';
}

// `null` as well as `undefined`: events parsed by JSON.parse alone may carry
// the `null` that Rust reads as `None`.
function reasonGiven(reason: string | null | undefined): boolean {
  return reason != null && rustTrim(reason) !== '';
}

/** Whether `actor` may apply `event` now; null when allowed, else why not. */
export function checkWorkflow(w: Workflow, actor: Actor, event: WorkflowEvent): Refusal | null {
  if (!mayRunCases(actor.role)) return { reason: 'role', role: actor.role };
  if (!isOpen(w.stage)) return { reason: 'ended', stage: w.stage };
  switch (event.event) {
    case 'advance':
      return checkAdvance(w, event.to, event.reason, event.referral);
    case 'verdict':
      if (w.stage !== 'verification') return { reason: 'verdict-out-of-stage' };
      if (w.verdict) return { reason: 'verdict-twice' };
      return null;
    case 'sign_off':
      if (w.stage !== 'verification') return { reason: 'sign-off-out-of-stage' };
      if (!w.verdict) return { reason: 'no-verdict' };
      if (w.sign_offs.some((a) => a.account === actor.account)) return { reason: 'signed-twice' };
      if (w.sign_offs.length > 0 && actor.role !== 'approver') return { reason: 'second-not-approver' };
      if (w.sign_offs.length >= 2) return { reason: 'sign-offs', have: w.sign_offs.length };
      return null;
    case 'document': {
      const length = charCount(rustTrim(event.name));
      return length === 0 || length > MAX_DOCUMENT_NAME ? { reason: 'bad-document' } : null;
    }
    case 'flag':
      return null;
    case 'task': {
      const idOk = event.id.length >= 1 && event.id.length <= MAX_TASK_ID && /^[a-z0-9-]+$/.test(event.id);
      const titleLength = charCount(rustTrim(event.title));
      // Rust's `due` is an i64; a fraction or NaN can only come from code
      // here, never from a record, and is refused rather than stored.
      const dueOk = Number.isSafeInteger(event.due) && event.due > 0;
      if (!idOk || titleLength === 0 || titleLength > MAX_TASK_TITLE || !dueOk) return { reason: 'bad-task' };
      if (Object.hasOwn(w.tasks, event.id)) return { reason: 'task-exists', id: event.id };
      return null;
    }
    case 'task_done': {
      const task = Object.hasOwn(w.tasks, event.id) ? w.tasks[event.id] : undefined;
      return task && !task.done ? null : { reason: 'no-such-task', id: event.id };
    }
  }
}

function checkAdvance(w: Workflow, to: Stage, reason: string | null | undefined, referral: string | null | undefined): Refusal | null {
  const from = w.stage;
  if (to === from) return { reason: 'same', stage: from };
  if ([reason, referral].some((text) => text != null && charCount(text) > MAX_TEXT)) return { reason: 'too-long' };
  if (to === 'closed' || to === 'declined') return reasonGiven(reason) ? null : { reason: 'needs-reason', to };
  if (to === 'withdrawn') return null;
  const next = nextStage(from)!;
  if (to !== next) return { reason: 'not-next', from, to, next };
  if (to === 'accepted') {
    if (!w.verdict) return { reason: 'no-verdict' };
    if (w.verdict[0] === 'not-credible') return { reason: 'not-credible' };
    if (w.sign_offs.length < 2) return { reason: 'sign-offs', have: w.sign_offs.length };
    return null;
  }
  if (to === 'departure') {
    const names = documentList(w);
    if (names.length === 0) return { reason: 'no-documents' };
    const missing = names.filter(([, done]) => !done).map(([name]) => name);
    return missing.length === 0 ? null : { reason: 'documents-incomplete', missing };
  }
  return null;
}

/**
 * Apply an event if it is allowed (changing `w` in place, as Rust's `&mut
 * self` does); otherwise leave `w` as it was. Returns the refusal, or null.
 */
export function applyWorkflow(w: Workflow, seq: number, actor: Actor, event: WorkflowEvent): Refusal | null {
  const refusal = checkWorkflow(w, actor, event);
  if (refusal) return refusal;
  switch (event.event) {
    case 'advance': {
      const reason = event.reason ?? null;
      w.transitions.push({ seq, from: w.stage, to: event.to, by: { ...actor }, reason });
      if (!isOpen(event.to)) {
        w.end_reason = reason;
        w.referral = event.referral ?? null;
      }
      w.stage = event.to;
      for (const task of Object.values(w.tasks)) {
        if (task.closes_at === event.to) task.done = true;
      }
      break;
    }
    case 'verdict':
      w.verdict = [event.result, { ...actor }];
      break;
    case 'sign_off':
      w.sign_offs.push({ ...actor });
      break;
    case 'document':
      w.documents[rustTrim(event.name)] = event.done;
      break;
    case 'flag': {
      const others = w.flags.filter((f) => f !== event.flag);
      w.flags = event.raised ? FLAGS.filter((f) => f === event.flag || others.includes(f)) : others;
      break;
    }
    case 'task':
      w.tasks[event.id] = { title: rustTrim(event.title), due: event.due, done: false, closes_at: event.closes_at ?? null };
      break;
    case 'task_done':
      w.tasks[event.id]!.done = true;
      break;
  }
  return null;
}

/** Fold one event from the chain: applied, or kept in `rejected`. */
export function foldWorkflow(w: Workflow, seq: number, actor: Actor, event: WorkflowEvent): void {
  const refusal = applyWorkflow(w, seq, actor, event);
  if (refusal) w.rejected.push([seq, refusal]);
}

/** Fold a whole list of events into a fresh workflow. */
export function workflowOf(events: Iterable<{ seq: number; actor: Actor; event: WorkflowEvent }>): Workflow {
  const w = emptyWorkflow();
  for (const { seq, actor, event } of events) foldWorkflow(w, seq, actor, event);
  return w;
}

/** The documents checklist in `BTreeMap` order (the order a refusal names them in). */
export function documentList(w: Workflow): [string, boolean][] {
  return sortedKeys(w.documents).map((name) => [name, w.documents[name]!]);
}

/**
 * `Workflow::open_tasks`: open tasks by due time (so the overdue come
 * first), ties by id. None once the case has ended.
 */
export function openTasks(w: Workflow): [string, Task][] {
  if (!isOpen(w.stage)) return [];
  return Object.keys(w.tasks)
    .filter((id) => !w.tasks[id]!.done)
    .sort((a, b) => w.tasks[a]!.due - w.tasks[b]!.due || compareRust(a, b))
    .map((id) => [id, w.tasks[id]!]);
}
