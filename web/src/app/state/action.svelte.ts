/**
 * One thing a form or a button does, and what the person sees of it: busy
 * while it runs, then what was done, or why not — a rule's refusal in its
 * own words, the server's answer, or (when the server served something that
 * does not verify) the page-wide warning.
 */
import { Refused, describeRefusal } from './actions.js';
import type { Problem, Translate, Workspace } from './workspace.svelte.js';

export class Action {
  busy = $state(false);
  error = $state<string | null>(null);
  done = $state<string | null>(null);

  /**
   * `context` is read at every run, so a component passes its props through a
   * closure and the action follows them. `onproblem` is where a server fault
   * goes instead of this action's own error line.
   */
  constructor(private readonly context: () => { ws: Workspace; t: Translate; onproblem?: (p: Problem) => void }) {}

  /** Run `work`; true when it succeeded. `success` is what the person is told then. */
  async run(work: () => Promise<unknown>, success: string | (() => string) | null = null): Promise<boolean> {
    this.busy = true;
    this.error = null;
    this.done = null;
    const { ws, t, onproblem } = this.context();
    try {
      await work();
      this.done = typeof success === 'function' ? success() : success;
      return true;
    } catch (e) {
      if (e instanceof Refused) this.error = describeRefusal(e, t);
      else {
        const problem = ws.fail(e);
        if (problem.serverFault && onproblem) onproblem(problem);
        else this.error = problem.text;
      }
      return false;
    } finally {
      this.busy = false;
    }
  }
}
