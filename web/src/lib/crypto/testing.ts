/**
 * Test helpers shared by the vector, property and interop tests: where the
 * repository is, how to read a vector file (loudly), how to catch a code.
 * Not exported from index.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NorthstarCryptoError } from './errors.js';

/** web/src/lib/crypto → the repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const VECTORS_DIR = resolve(REPO_ROOT, 'testdata/vectors');

/** Read a vector file. A missing file is a failure, never a skip. */
export function readVectors<T = unknown>(name: string): T {
  const path = resolve(VECTORS_DIR, name);
  if (!existsSync(path)) {
    throw new Error(
      `vector file ${path} is missing: the frozen vectors are written by the Rust generator ` +
        '(cargo xtask vectors) and must be committed; the TypeScript twin is not checked without them',
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The code a call fails with, or 'ok'. Any non-Northstar exception is re-thrown: it is a bug. */
export function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof NorthstarCryptoError) return e.code;
    throw e;
  }
}

export async function codeOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return 'ok';
  } catch (e) {
    if (e instanceof NorthstarCryptoError) return e.code;
    throw e;
  }
}
