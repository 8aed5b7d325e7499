import { readFileSync } from 'node:fs';

declare const __X0TTA6BL4_VERSION__: string | undefined;

// The bundle has the version baked in by esbuild's `define`; a dev run (tsx) reads package.json.
function devVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '0.0.0-dev';
  }
}

export const VERSION: string =
  typeof __X0TTA6BL4_VERSION__ === 'string' ? __X0TTA6BL4_VERSION__ : devVersion();
