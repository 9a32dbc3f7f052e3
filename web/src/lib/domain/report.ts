/**
 * Statistics with small cells suppressed, so a count can never point at a
 * person (northstar-core report.rs), and the four tables `northstar report`
 * draws from the cases a member can read (commands.rs `report_tables`).
 *
 * A cell above 0 and below `k` is hidden (primary suppression). The number
 * of cases may be known from elsewhere, so the hidden cells' sum must be
 * assumed known too: a table never has exactly one hidden cell, and the
 * hidden cells never sum to their own number (which would make each exactly
 * 1). While either would happen, the smallest non-zero cell still shown is
 * hidden as well; if none is left, the zeros are hidden too. Zero cells are
 * otherwise shown: they describe nobody. Only one-dimensional tables exist,
 * because cross-tables add constraints this rule does not cover.
 */
import type { Stage } from './record.js';
import { compareRust, utf8Prefix } from './rust.js';
import { STAGES } from './workflow.js';

/** The default smallest count shown. */
export const DEFAULT_K = 5;
/** `northstar report` refuses a smaller k: a cell of one case points at a person. */
export const MIN_K = 2;

/** A published cell: the count, or null when hidden (serde's untagged `Cell`). */
export type Cell = number | null;

export interface Table {
  dimension: string;
  cells: [string, Cell][];
  /** The sum of the cells shown (never of the hidden ones). */
  shown_total: number;
  suppressed_cells: number;
}

/**
 * `suppress`: publish `counts` (in `BTreeMap` order of their names) with
 * cells below `k` hidden, and as many more as it takes that no hidden cell
 * can be worked out.
 */
export function suppress(dimension: string, counts: ReadonlyMap<string, number>, k: number): Table {
  const entries = [...counts].sort(([a], [b]) => compareRust(a, b));
  const values = entries.map(([, n]) => n);
  const hidden = values.map((n) => n > 0 && n < k);
  for (;;) {
    const suppressed = values.filter((_, i) => hidden[i]);
    const sum = suppressed.reduce((a, b) => a + b, 0);
    const pinned = suppressed.length === 1 || (suppressed.length > 0 && sum === suppressed.length);
    if (!pinned) break;
    let next = -1;
    values.forEach((v, i) => {
      if (!hidden[i] && v > 0 && (next < 0 || v < values[next]!)) next = i;
    });
    if (next >= 0) {
      hidden[next] = true;
    } else {
      // Every non-zero cell is hidden and still only one split fits (say two
      // cells of 1): hide the zeros too, so the split is open.
      hidden.fill(true);
      break;
    }
  }
  const cells: [string, Cell][] = entries.map(([name, n], i) => [name, hidden[i] ? null : n]);
  return {
    dimension,
    cells,
    shown_total: cells.reduce((sum, [, c]) => sum + (c ?? 0), 0),
    suppressed_cells: hidden.filter(Boolean).length,
  };
}

/**
 * `derivable`: whether a hidden cell of `table` can be worked out from the
 * cells shown and the true number of cases `total`: true when the hidden
 * cells admit exactly one assignment. Rust's u64 subtraction panics when
 * `total` is below the shown total; that is a caller's error here too.
 */
export function derivable(table: Table, total: number): boolean {
  const hidden = table.suppressed_cells;
  if (hidden === 0 || table.cells.length === 1) return false;
  if (total < table.shown_total) throw new RangeError('the total is below the cells shown');
  const zerosHidden = table.suppressed_cells === table.cells.length;
  const sum = total - table.shown_total;
  const floor = zerosHidden ? 0 : hidden;
  return hidden === 1 || sum === floor;
}

/** The cell names of a case with no opening date, and with no pathway or destination yet. */
export const REPORT_UNKNOWN = 'unknown';
export const REPORT_NONE_YET = 'none yet';

/** What the report needs of one listed object (sync.rs `Listing`). */
export interface ReportRow {
  /** Null when the member cannot read the case's `summary`, and for safe houses. */
  stage: Stage | null;
  /** `summary.opened`, `YYYY-MM-DD`. */
  opened: string | null;
  /** `summary.destination` and `summary.pathway`, written by a pathway. */
  destination: string | null;
  pathway: string | null;
}

function tally(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * The report's four one-dimensional tables over the cases the member reads:
 * stage (all twelve, zeros included), month opened, destination, pathway.
 * Throws a RangeError for a k below `MIN_K`, as the command refuses it.
 */
export function reportTables(rows: readonly ReportRow[], k: number = DEFAULT_K): Table[] {
  if (!Number.isSafeInteger(k) || k < MIN_K) throw new RangeError(`k must be at least ${MIN_K}: a cell of one case points at a person`);
  const byStage = new Map<string, number>(STAGES.map((s) => [s, 0]));
  const byMonth = new Map<string, number>();
  const byDestination = new Map<string, number>();
  const byPathway = new Map<string, number>();
  for (const row of rows) {
    if (row.stage === null) continue;
    tally(byStage, row.stage);
    // `str::get(..7)`: bytes, and none when the seventh byte splits a character.
    tally(byMonth, (row.opened === null ? null : utf8Prefix(row.opened, 7)) ?? REPORT_UNKNOWN);
    tally(byDestination, row.destination ?? REPORT_NONE_YET);
    tally(byPathway, row.pathway ?? REPORT_NONE_YET);
  }
  return [suppress('stage', byStage, k), suppress('month opened', byMonth, k), suppress('destination', byDestination, k), suppress('pathway', byPathway, k)];
}
