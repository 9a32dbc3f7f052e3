/**
 * OPAQUE's client half in its own dedicated worker. The audited library is
 * WebAssembly, and compiling WebAssembly needs `'wasm-unsafe-eval'`; the
 * server grants that to this worker's script alone (crates/northstar-server/
 * src/webapp.rs), so the page that renders case data runs under a policy with
 * no eval of any kind. The passphrase reaches this worker by postMessage
 * (same origin, in memory); the worker keeps nothing between requests.
 */
import { serenityOpaque, type OpaqueReply, type OpaqueRequest } from './opaque.js';

async function handle(request: OpaqueRequest): Promise<OpaqueReply> {
  switch (request.op) {
    case 'start':
      return { id: request.id, ok: true, started: await serenityOpaque.startLogin(request.password) };
    case 'finish':
      return { id: request.id, ok: true, finished: await serenityOpaque.finishLogin(request.state, request.response, request.password) };
    case 'register-start':
      return { id: request.id, ok: true, registrationStarted: await serenityOpaque.startRegistration(request.password) };
    case 'register-finish':
      return {
        id: request.id,
        ok: true,
        registrationFinished: await serenityOpaque.finishRegistration(request.state, request.response, request.password),
      };
  }
}

self.onmessage = (message: MessageEvent<OpaqueRequest>) => {
  const request = message.data;
  handle(request).then(
    (reply) => self.postMessage(reply),
    (e: unknown) => self.postMessage({ id: request.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies OpaqueReply),
  );
};
