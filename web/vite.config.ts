/**
 * The public help page's script: one self-contained ES module at
 * dist/help/assets/help.js, served by the server as /help/assets/help.js
 * under a CSP of `script-src 'self'` with no `unsafe-eval` and no wasm. So:
 * no chunks (one file to serve and to pin), no source maps, no inlined
 * workers or modulepreload helpers, no HTML, nothing copied from a public dir.
 * The last plugin refuses to write a bundle that breaks any of this.
 */
import { dropNodeCryptoFallback } from './vite.plugins';
import { defineConfig, type Plugin } from 'vite';


/** What the page's CSP and the one-file contract forbid, checked on the bundle itself. */
const FORBIDDEN: [RegExp, string][] = [
  [/\bimport\s*\(/, 'a dynamic import (a second file, or a CDN)'],
  [/^\s*import\b[^(]/m, 'a static import (a second file)'],
  [/\beval\s*\(/, 'eval (blocked by the CSP)'],
  [/\bnew\s+Function\s*\(/, 'new Function (blocked by the CSP)'],
  [/\bWebAssembly\b/, 'WebAssembly (blocked by the CSP)'],
  [/\bnew\s+(Shared)?Worker\s*\(/, 'a worker (blocked by the CSP)'],
  [/sourceMappingURL/, 'a source map reference'],
  [/https?:\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, 'an absolute URL (the page talks to its own origin only)'],
];

function checkHelpBundle(): Plugin {
  return {
    name: 'northstar:check-help-bundle',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.values(bundle);
      const names = files.map((f) => f.fileName);
      if (files.length !== 1 || names[0] !== 'assets/help.js') {
        this.error(`the help bundle must be the single file assets/help.js, not: ${names.join(', ')}`);
      }
      for (const file of files) {
        if (file.type !== 'chunk') continue;
        for (const [pattern, what] of FORBIDDEN) {
          const hit = pattern.exec(file.code);
          if (hit) this.error(`${file.fileName} contains ${what}: …${file.code.slice(Math.max(0, hit.index - 60), hit.index + 60)}…`);
        }
      }
    },
  };
}

export default defineConfig({
  publicDir: false,
  plugins: [dropNodeCryptoFallback(), checkHelpBundle()],
  build: {
    outDir: 'dist/help',
    emptyOutDir: true,
    // Tor Browser (Firefox ESR 128) and every current browser run ES2022.
    target: 'es2022',
    sourcemap: false,
    modulePreload: false,
    assetsInlineLimit: 0,
    copyPublicDir: false,
    rolldownOptions: {
      input: 'src/help/main.ts',
      output: {
        format: 'es',
        entryFileNames: 'assets/help.js',
        codeSplitting: false,
      },
    },
  },
});
