/**
 * Northstar's domain for the browser: the TypeScript twin of the pure logic
 * in crates/northstar-core (and of the pure parts of the client and the
 * command line that fold and write cases), held to the same frozen vectors
 * (testdata/vectors/{workflow,safehouse,pathway,time,report,record}.json).
 * Framework-free: no Svelte, no DOM, no network.
 */
export * from './record.js';
export * from './compartment.js';
export * from './workflow.js';
export * from './safehouse.js';
export * from './pathway.js';
export * from './time.js';
export * from './report.js';
export * from './object.js';
export * from './travel.js';
export * from './body.js';
export * from './messages.js';
export { charCount, compareRust, rustTrim, sortedKeys } from './rust.js';
