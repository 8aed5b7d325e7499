// An optional MAC → node name table for the exporter (`--names FILE`): for neighbours and
// gateways that are not in the fleet's telemetry (or whose telemetry has not arrived yet).
// One "MAC NAME" pair per line; '#' starts a comment. Names follow the topic-level rule.
import { readRegularFile } from '../flash/safe-read.ts';
import { mac } from './read-telemetry.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MAX_NAMES_BYTES = 4 * 1024 * 1024;

export function parseNames(text: string): { names: Map<string, string>; errors: string[] } {
  const names = new Map<string, string>();
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [m, name, extra] = line.split(/\s+/);
    const addr = mac(m);
    if (!addr || !name || !NAME.test(name) || extra !== undefined) errors.push(`line ${i + 1}: expected "MAC NAME"`);
    else names.set(addr, name);
  });
  return { names, errors };
}

export function readNamesFile(path: string): Map<string, string> {
  const buf = readRegularFile(path, { maxBytes: MAX_NAMES_BYTES });
  if (buf === null) throw new Error(`names file ${path}: ENOENT`);
  const { names, errors } = parseNames(buf.toString('utf8'));
  if (errors.length) throw new Error(`names file ${path}: ${errors.slice(0, 5).join('; ')}${errors.length > 5 ? ` (+${errors.length - 5} more)` : ''}`);
  return names;
}
