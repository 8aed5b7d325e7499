import { UsageError, type FlagSpec, type FlagValues } from './command.ts';

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;
// Plain decimals only: Number() would also take "0x10", "1e3", "0b1" and " 5 ", which no
// operator means and which other tools read differently.
const DECIMAL = /^-?\d{1,16}(\.\d{1,16})?$/;
const INTEGER = /^-?\d{1,16}$/;

export interface ParsedArgs {
  flags: FlagValues;
  positionals: string[];
  help: boolean;
}

/**
 * Parses `--name`, `--name=value`, `--name value`, `--no-name` (booleans) and `--` against
 * the flags a command declares. Anything undeclared is a UsageError naming the flag.
 */
export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, command: string): ParsedArgs {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    // A negative number ("mesh set orig_interval -5") is a value, not a flag: it reaches the
    // command, which says what range it expects.
    if (!arg.startsWith('-') || arg === '-' || NEGATIVE_NUMBER.test(arg)) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option ${arg} for '${command}'`);
    const eq = arg.indexOf('=');
    let name = arg.slice(2, eq === -1 ? undefined : eq);
    let inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean' && inline === undefined) {
      name = name.slice(3);
      spec = specs[name];
      inline = 'false';
    }
    if (!spec) throw new UsageError(`unknown option --${name} for '${command}'`);
    if (spec.type === 'boolean') {
      if (inline === undefined) flags[name] = true;
      else if (inline === 'true' || inline === '1') flags[name] = true;
      else if (inline === 'false' || inline === '0') flags[name] = false;
      else throw new UsageError(`--${name} takes no value (got '${inline}')`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
      }
      value = next;
      i++;
    }
    if (spec.type === 'number') {
      if (!DECIMAL.test(value)) throw new UsageError(`--${name} must be a number (got '${value}')`);
      flags[name] = Number(value);
    } else if (spec.type === 'integer') {
      if (!INTEGER.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`--${name} must be a whole number (got '${value}')`);
      flags[name] = Number(value);
    } else {
      flags[name] = value;
    }
  }
  return { flags, positionals, help };
}

export function formatFlags(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.type === 'boolean' ? '' : ` ${s.value ?? s.type.toUpperCase()}`}`;
    return [left, s.describe] as const;
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, d]) => l.padEnd(width) + d).join('\n');
}
