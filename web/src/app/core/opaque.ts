/**
 * The client half of OPAQUE login and registration, with Northstar's suite fixed here in
 * client code (crates/northstar-crypto/src/opaque.rs): `@serenity-kit/opaque`
 * is OPRF Ristretto255 and TripleDH over Ristretto255 with SHA-512; the
 * key-stretching function is Argon2id v1.3, 16 zero bytes of salt, 64-byte
 * output, t = 3, m = 64 MiB, p = 4. A server can never choose weaker ones.
 * Messages are base64url without padding; no context, default identifiers.
 *
 * In the app the library runs in a dedicated worker (opaque.worker.ts,
 * driven by opaque.page.ts): it is the only WebAssembly in the app, and only
 * that worker's script is served with `'wasm-unsafe-eval'`. Node tests call
 * it directly.
 */
import * as opaque from '@serenity-kit/opaque';

/** The work factors of opaque.rs (ARGON2_T, ARGON2_M_KIB, ARGON2_P). */
export const KEY_STRETCHING = { 'argon2id-custom': { iterations: 3, memory: 64 * 1024, parallelism: 4 } } as const;

export interface LoginStarted {
  state: string;
  request: string;
}

export interface LoginFinished {
  finalization: string;
  /** base64url, 64 bytes: it opens the password slot. */
  exportKey: string;
  serverStaticPublicKey: string;
}

export interface RegistrationStarted {
  state: string;
  request: string;
}

export interface RegistrationFinished {
  /** The RegistrationUpload the server stores as the account's OPAQUE record. */
  upload: string;
  /** base64url, 64 bytes: it seals the password slot, and opens it at every later sign-in. */
  exportKey: string;
  serverStaticPublicKey: string;
}

/** What sign-in and registration need from OPAQUE; tests substitute their own. */
export interface OpaqueClient {
  startLogin(password: string): Promise<LoginStarted>;
  /** undefined when the server's response does not open with this password (wrong passphrase or unknown name). */
  finishLogin(state: string, response: string, password: string): Promise<LoginFinished | undefined>;
  startRegistration(password: string): Promise<RegistrationStarted>;
  /** Throws when the server's response is not a valid OPAQUE message: no passphrase makes that one work. */
  finishRegistration(state: string, response: string, password: string): Promise<RegistrationFinished>;
}

/** The page ↔ worker messages. */
export type OpaqueRequest =
  | { id: number; op: 'start'; password: string }
  | { id: number; op: 'finish'; state: string; response: string; password: string }
  | { id: number; op: 'register-start'; password: string }
  | { id: number; op: 'register-finish'; state: string; response: string; password: string };
export type OpaqueReply =
  | {
      id: number;
      ok: true;
      started?: LoginStarted;
      finished?: LoginFinished;
      registrationStarted?: RegistrationStarted;
      registrationFinished?: RegistrationFinished;
    }
  | { id: number; ok: false; error: string };

/** The library itself, called in the current thread (the worker, and tests). */
export const serenityOpaque: OpaqueClient = {
  async startLogin(password) {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    return { state: clientLoginState, request: startLoginRequest };
  },
  async finishLogin(state, response, password) {
    await opaque.ready;
    let done;
    try {
      done = opaque.client.finishLogin({ clientLoginState: state, loginResponse: response, password, keyStretching: KEY_STRETCHING });
    } catch {
      // A response that is not a valid message at all: as far as the user is concerned, sign-in failed.
      return undefined;
    }
    if (!done) return undefined;
    return { finalization: done.finishLoginRequest, exportKey: done.exportKey, serverStaticPublicKey: done.serverStaticPublicKey };
  },
  async startRegistration(password) {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    return { state: clientRegistrationState, request: registrationRequest };
  },
  async finishRegistration(state, response, password) {
    await opaque.ready;
    let done;
    try {
      // The same stretching as login: otherwise the export key sealed into the slot here would not be the one sign-in derives.
      done = opaque.client.finishRegistration({ clientRegistrationState: state, registrationResponse: response, password, keyStretching: KEY_STRETCHING });
    } catch {
      // The library's own message may quote the input; this one never does.
      throw new Error("the server's registration response is not a valid OPAQUE message");
    }
    return { upload: done.registrationRecord, exportKey: done.exportKey, serverStaticPublicKey: done.serverStaticPublicKey };
  },
};
