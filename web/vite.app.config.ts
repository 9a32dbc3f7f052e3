/**
 * The staff web app: src/app/index.html and its modules, built to dist/app/.
 * Separate from vite.config.ts (the help page the Rust build embeds).
 *
 * The server sends the page a CSP of `default-src 'none'; script-src 'self';
 * worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'`,
 * so the build must have no inline script or style, no eval, and load
 * nothing from another origin. The OPAQUE library carries its WebAssembly
 * inline (base64) and compiles it with WebAssembly.compile; it lives only in
 * the worker bundle (src/app/core/opaque.worker.ts), whose script alone the
 * server sends with 'wasm-unsafe-eval'. The check plugin refuses a bundle
 * that breaks this.
 *
 * Assets use relative URLs (base './'), so dist/app can be served under any path.
 */
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { dropNodeCryptoFallback } from './vite.plugins';


/** Inline code the CSP would block, checked on the emitted HTML. */
const HTML_FORBIDDEN: [RegExp, string][] = [
  [/<script(?![^>]*\bsrc=)[^>]*>/i, 'an inline <script>'],
  [/<style\b/i, 'an inline <style>'],
  [/\sstyle=/i, 'a style attribute'],
  [/\son[a-z]+=/i, 'an inline event handler'],
  [/\b(src|href)="(https?:)?\/\//i, 'a resource from another origin'],
];

/** In our own chunks (not node_modules, which the bundle also holds). */
const JS_FORBIDDEN: [RegExp, string][] = [
  [/\beval\s*\(/, 'eval (blocked by the CSP)'],
  [/sourceMappingURL/, 'a source map reference'],
];

function checkAppBundle(): Plugin {
  return {
    name: 'northstar:check-app-bundle',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type === 'asset' && file.fileName.endsWith('.html')) {
          const html = typeof file.source === 'string' ? file.source : new TextDecoder().decode(file.source);
          for (const [pattern, what] of HTML_FORBIDDEN) {
            const hit = pattern.exec(html);
            if (hit) this.error(`${file.fileName} contains ${what}: …${html.slice(Math.max(0, hit.index - 60), hit.index + 60)}…`);
          }
        }
        if (file.type === 'chunk') {
          for (const [pattern, what] of JS_FORBIDDEN) {
            const hit = pattern.exec(file.code);
            if (hit) this.error(`${file.fileName} contains ${what}: …${file.code.slice(Math.max(0, hit.index - 60), hit.index + 60)}…`);
          }
        }
      }
    },
  };
}

export default defineConfig({
  root: 'src/app',
  base: './',
  publicDir: false,
  plugins: [dropNodeCryptoFallback(), svelte({ configFile: false, compilerOptions: { css: 'external' } }), checkAppBundle()],
  // The OPAQUE worker: its file name (assets/opaque.worker-HASH.js) is how
  // the server knows to send it the one policy that allows WebAssembly.
  worker: { format: 'es', plugins: () => [dropNodeCryptoFallback(), checkAppBundle()] },
  build: {
    outDir: '../../dist/app',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The preload polyfill would be inlined into the entry; every browser we support has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    copyPublicDir: false,
    // The OPAQUE library carries its WebAssembly inline: about 430 kB of the one chunk.
    chunkSizeWarningLimit: 1024,
  },
});
