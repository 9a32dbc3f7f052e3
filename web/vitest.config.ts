import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    // Ed25519 policy checks (914 vectors, each with torsion checks) and the
    // interop runs with a Rust binary take longer than the default 5 s on a
    // 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
