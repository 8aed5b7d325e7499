// Types of core-portable.mjs, which scripts/build-core.mjs generates (wasm2js output of the
// scalar build of assembly/). Hand-written and committed so that type checking works before
// the first build.
import type { CoreExports } from '../exports.ts';

export function instantiate(imports: Record<string, Record<string, unknown>>): CoreExports;
