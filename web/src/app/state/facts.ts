/** The names the pages offer in their pickers, in the domain's order. */
export { PRIORITIES, STAGES } from '../../lib/domain/workflow.js';
