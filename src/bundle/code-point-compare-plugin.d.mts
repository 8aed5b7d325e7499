import type { Plugin } from 'esbuild';
/** esbuild plugin: libp2p's peer-store sorts in UTF-16 order instead of with localeCompare (ICU). */
export const codePointCompare: Plugin;
