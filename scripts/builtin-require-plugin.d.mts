import type { Plugin } from 'esbuild';
/** esbuild plugin: ESM imports of Node built-ins bundled as require(), so that no facade reads their getters. */
export const builtinRequire: Plugin;
