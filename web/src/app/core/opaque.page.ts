/**
 * The page's side of the OPAQUE worker (opaque.worker.ts). This module
 * imports only types from opaque.ts, so the WebAssembly library stays out of
 * the page's own bundle and runs only where the policy allows it.
 */
import type {
  LoginFinished,
  LoginStarted,
  OpaqueClient,
  OpaqueReply,
  OpaqueRequest,
  RegistrationFinished,
  RegistrationStarted,
} from './opaque.js';

/** A request before it is numbered (Omit on each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** One worker for the page's life, started at the first sign-in or registration. */
class WorkerOpaque implements OpaqueClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { ok: (reply: OpaqueReply) => void; fail: (e: Error) => void }>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./opaque.worker.ts', import.meta.url), { type: 'module', name: 'opaque' });
    worker.onmessage = (message: MessageEvent<OpaqueReply>) => {
      const reply = message.data;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      waiter?.ok(reply);
    };
    worker.onerror = (event) => {
      // The worker could not start (blocked by policy, failed to load): fail every pending call plainly.
      event.preventDefault();
      const error = new Error(`the sign-in worker failed: ${event.message || 'it could not be loaded'}`);
      for (const waiter of this.waiting.values()) waiter.fail(error);
      this.waiting.clear();
      this.worker?.terminate();
      this.worker = null;
    };
    this.worker = worker;
    return worker;
  }

  private call(request: WithoutId<OpaqueRequest>): Promise<OpaqueReply & { ok: true }> {
    const id = this.nextId++;
    const worker = this.start();
    return new Promise((ok, fail) => {
      this.waiting.set(id, {
        ok: (reply) => (reply.ok ? ok(reply) : fail(new Error(`OPAQUE failed: ${reply.error}`))),
        fail,
      });
      worker.postMessage({ ...request, id } as OpaqueRequest);
    });
  }

  async startLogin(password: string): Promise<LoginStarted> {
    const reply = await this.call({ op: 'start', password });
    if (!reply.started) throw new Error('OPAQUE: the worker answered without a login request');
    return reply.started;
  }

  async finishLogin(state: string, response: string, password: string): Promise<LoginFinished | undefined> {
    const reply = await this.call({ op: 'finish', state, response, password });
    return reply.finished;
  }

  async startRegistration(password: string): Promise<RegistrationStarted> {
    const reply = await this.call({ op: 'register-start', password });
    if (!reply.registrationStarted) throw new Error('OPAQUE: the worker answered without a registration request');
    return reply.registrationStarted;
  }

  async finishRegistration(state: string, response: string, password: string): Promise<RegistrationFinished> {
    const reply = await this.call({ op: 'register-finish', state, response, password });
    if (!reply.registrationFinished) throw new Error('OPAQUE: the worker answered without a registration upload');
    return reply.registrationFinished;
  }
}

export const workerOpaque: OpaqueClient = new WorkerOpaque();
