/** Vite plugins shared by the help page build and the staff app build. */
import type { Plugin } from 'vite';

/**
 * @hpke/common falls back to `await import("crypto")` for Node 18 and older,
 * where `globalThis.crypto` is missing. A browser never takes that path (the
 * page checks for Web Crypto before it enhances anything), but the dynamic
 * import would pull Vite's preload helper and a browser stub into the bundle.
 * Replace it with a rejection, which the library's own try/catch reports.
 */
export function dropNodeCryptoFallback(): Plugin {
  return {
    name: 'northstar:drop-node-crypto-fallback',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('/node_modules/@hpke/') || !code.includes('import("crypto")')) return null;
      return { code: code.replaceAll('import("crypto")', 'Promise.reject(new Error("node:crypto is not loaded in a browser"))'), map: null };
    },
  };
}
