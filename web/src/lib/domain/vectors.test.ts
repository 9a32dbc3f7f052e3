/**
 * The frozen domain vectors of testdata/vectors/, which
 * crates/northstar-core/tests/vectors.rs checks against the Rust core: every
 * scenario must fold to exactly the state Rust folds it to, every check must
 * refuse with exactly Rust's refusal, every record must be read or refused
 * as the Rust client reads or refuses it.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../crypto/bytes.js';
import type { CompartmentName } from '../crypto/codes.js';
import { readVectors } from '../crypto/testing.js';
import { parseRecordPlaintext, parseRecordText } from './body.js';
import { applyEntry, emptyObjectView, foldObject, type ObjectView } from './object.js';
import { legMissed, legs, nextNumber, PATHWAY_KINDS, pathways, STEPS } from './pathway.js';
import type { Actor, RecordBody, VerifiedEntry, WorkflowEvent } from './record.js';
import { derivable, DEFAULT_K, suppress, type Table } from './report.js';
import { checkHouse, HOUSE_REFUSAL_REASONS, occupancy } from './safehouse.js';
import { formatUtc, parseDue } from './time.js';
import { checkWorkflow, deadlineTasks, FLAGS, isOpen, nextStage, openTasks, REFUSAL_REASONS, STAGES, VERDICTS, type Priority } from './workflow.js';

interface Step {
  seq: number;
  by: string;
  compartment: CompartmentName;
  body: RecordBody | null;
  check?: unknown;
}

interface Scenario {
  name: string;
  steps: Step[];
  expect: Record<string, unknown>;
}

interface ScenarioFile {
  members: Record<string, Actor>;
  refusals: string[];
  scenarios: Scenario[];
}

interface WorkflowFile extends ScenarioFile {
  stages: { name: string; open: boolean; next: string | null }[];
  flags: string[];
  verdicts: string[];
  priorities: { name: Priority; now: number; deadline_tasks: WorkflowEvent[] }[];
  path: Omit<Step, 'seq'>[];
  checks: { name: string; path: number; then: Omit<Step, 'seq'>[]; by: string; event: WorkflowEvent; expect: unknown }[];
}

function entry(members: Record<string, Actor>, step: Omit<Step, 'seq'>, seq: number): VerifiedEntry {
  const actor = members[step.by];
  if (!actor) throw new Error(`vector names unknown member '${step.by}'`);
  return { seq, compartment: step.compartment, actor, authorName: step.by, body: step.body };
}

/** Workflow or safe-house check of a step's event, as the vectors write it. */
function check(view: ObjectView, members: Record<string, Actor>, step: Step): unknown {
  const actor = members[step.by]!;
  expect(step.compartment).toBe('summary');
  const body = step.body;
  if (body?.kind === 'event') return checkWorkflow(view.workflow, actor, body.event) ?? 'ok';
  if (body?.kind === 'house') {
    if (!view.house) throw new Error('a house check on an object that is no safe house');
    return checkHouse(view.house, actor, body.event) ?? 'ok';
  }
  throw new Error(`a check of a ${body?.kind ?? 'unreadable'} record`);
}

function expected(view: ObjectView, key: string): unknown {
  switch (key) {
    case 'workflow':
      return view.workflow;
    case 'open_tasks':
      return openTasks(view.workflow);
    case 'house':
      return view.house;
    case 'occupancy':
      return view.house ? occupancy(view.house) : null;
    case 'fields':
      return view.fields;
    case 'notes':
      return view.notes;
    default:
      throw new Error(`unknown expectation ${key}`);
  }
}

/** Fold every scenario and return the refusals the expectations name. */
function runScenarios(file: ScenarioFile): Set<string> {
  const named = new Set<string>();
  for (const scenario of file.scenarios) {
    const view = emptyObjectView();
    scenario.steps.forEach((step, i) => {
      expect(step.seq, scenario.name).toBe(i);
      if (step.body) expect(parseRecordText(JSON.stringify(step.body)), `${scenario.name}, step ${i} reads as Rust wrote it`).toEqual({ ok: true, body: step.body });
      if ('check' in step) {
        expect(check(view, file.members, step), `${scenario.name}, step ${i}`).toEqual(step.check);
        const reason = (step.check as { reason?: string }).reason;
        if (reason) named.add(reason);
      }
      applyEntry(view, entry(file.members, step, step.seq));
    });
    for (const [key, want] of Object.entries(scenario.expect)) {
      expect(expected(view, key), `${scenario.name}: ${key}`).toEqual(want);
    }
    expect(foldObject(scenario.steps.map((s) => entry(file.members, s, s.seq))), 'foldObject folds as applyEntry does').toEqual(view);
    for (const [, refusal] of view.workflow.rejected) named.add(refusal.reason);
  }
  return named;
}

describe('workflow.json', () => {
  const v = readVectors<WorkflowFile>('workflow.json');

  it('names the stages, flags, verdicts and deadlines as Rust does', () => {
    expect(v.stages).toEqual(STAGES.map((s) => ({ name: s, open: isOpen(s), next: nextStage(s) })));
    expect(v.flags).toEqual(FLAGS);
    expect(v.verdicts).toEqual(VERDICTS);
    for (const p of v.priorities) expect(deadlineTasks(p.name, p.now), p.name).toEqual(p.deadline_tasks);
    expect([...v.refusals].sort()).toEqual([...REFUSAL_REASONS].sort());
  });

  it('folds every scenario to the expected state, checking every step on the way', () => {
    const named = runScenarios(v);
    for (const c of v.checks) {
      const view = emptyObjectView();
      [...v.path.slice(0, c.path), ...c.then].forEach((step, seq) => applyEntry(view, entry(v.members, step, seq)));
      const got = checkWorkflow(view.workflow, v.members[c.by]!, c.event) ?? 'ok';
      expect(got, c.name).toEqual(c.expect);
      const reason = (c.expect as { reason?: string }).reason;
      if (reason) named.add(reason);
    }
    expect([...named].sort(), 'every refusal is expected by some vector').toEqual([...REFUSAL_REASONS].sort());
    expect(v.checks.length).toBe(STAGES.length * (STAGES.length + 6));
  });
});

describe('safehouse.json', () => {
  const v = readVectors<ScenarioFile>('safehouse.json');

  it('folds every scenario to the expected state, checking every move on the way', () => {
    const named = runScenarios(v);
    const houseReasons = [...named].filter((r) => (HOUSE_REFUSAL_REASONS as readonly string[]).includes(r));
    expect(houseReasons.sort()).toEqual([...HOUSE_REFUSAL_REASONS].sort());
    expect([...v.refusals].sort()).toEqual([...HOUSE_REFUSAL_REASONS].sort());
  });
});

describe('pathway.json', () => {
  interface PathwayCase {
    name: string;
    fields: Record<string, string>;
    pathways: unknown;
    legs: unknown;
    next_number: Record<string, number>;
    missed: { now: number; legs: number[] }[];
  }
  const v = readVectors<{ kinds: string[]; steps: string[]; cases: PathwayCase[] }>('pathway.json');

  it('names the kinds and the steps as Rust does', () => {
    expect(v.kinds).toEqual(PATHWAY_KINDS);
    expect(v.steps).toEqual(STEPS);
  });

  it('reads pathways and legs back, numbers the next one, and finds the missed check-ins', () => {
    expect(v.cases.length).toBeGreaterThanOrEqual(3);
    for (const c of v.cases) {
      expect(pathways(c.fields), c.name).toEqual(c.pathways);
      const read = legs(c.fields);
      expect(read, c.name).toEqual(c.legs);
      for (const [prefix, n] of Object.entries(c.next_number)) expect(nextNumber(c.fields, prefix), `${c.name}: ${prefix}`).toBe(n);
      for (const m of c.missed) {
        expect(
          read.filter((leg) => legMissed(leg, m.now)).map((leg) => leg.number),
          `${c.name}: at ${m.now}`,
        ).toEqual(m.legs);
      }
    }
  });
});

describe('time.json', () => {
  const v = readVectors<{ parse_due: { text: string; now: number; seconds: number | null }[]; format_utc: { seconds: number; text: string }[] }>('time.json');

  it('parses due times and prints them as Rust does', () => {
    for (const c of v.parse_due) expect(parseDue(c.text, c.now), JSON.stringify(c.text)).toBe(c.seconds);
    for (const c of v.format_utc) expect(formatUtc(c.seconds), String(c.seconds)).toBe(c.text);
  });
});

describe('report.json', () => {
  interface SuppressCase {
    name: string;
    k: number;
    counts: [string, number][];
    table: Table;
    total: number;
    derivable: boolean;
  }
  const v = readVectors<{ default_k: number; suppress: SuppressCase[]; derivable: { name: string; table: Table; total: number; derivable: boolean }[] }>('report.json');

  it('suppresses small cells and the cells that would give them away', () => {
    expect(DEFAULT_K).toBe(v.default_k);
    for (const c of v.suppress) {
      const table = suppress(c.table.dimension, new Map(c.counts), c.k);
      expect(table, c.name).toEqual(c.table);
      expect(derivable(table, c.total), c.name).toBe(c.derivable);
    }
  });

  it('tells derivable tables from the others', () => {
    for (const c of v.derivable) expect(derivable(c.table, c.total), c.name).toBe(c.derivable);
  });
});

describe('record.json', () => {
  const v = readVectors<{ cases: { name: string; text?: string; hex?: string; body: RecordBody | null }[] }>('record.json');

  it('reads and refuses exactly the records the Rust client reads and refuses', () => {
    expect(v.cases.length).toBeGreaterThan(100);
    for (const c of v.cases) {
      const bytes = c.hex !== undefined ? fromHex(c.hex) : new TextEncoder().encode(c.text!);
      const got = parseRecordPlaintext(bytes);
      if (c.body === null) expect(got.ok, c.name).toBe(false);
      else expect(got, c.name).toEqual({ ok: true, body: c.body });
    }
  });
});
