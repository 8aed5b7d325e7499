// The argument shapes of the fleet commands, checked before any handler runs, so handlers get
// typed values. Option values of `set` are validated by its handler through the config schema
// (src/config/apply-option.ts), which knows every option's type.
import { CommandRejected, type CommandName } from './command-envelope.ts';

export interface CommandArgs {
  status: Record<string, never>;
  'dry-run': { on: boolean };
  'run-action': { action: string };
  /** `path` is 'section.option' in UCI names; `values` has one item, or several for a list option. */
  set: { path: string; values: string[] };
  'learning-round': Record<string, never>;
}

const ACTION = /^[a-z][a-z0-9_-]{0,63}$/;
const OPTION_PATH = /^(x0tta6bl4\.)?[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$/;

function bad(usage: string, detail: string): CommandRejected {
  return new CommandRejected('bad-args', `${detail}; usage: ${usage}`);
}

export function parseCommandArgs<K extends CommandName>(cmd: K, args: string[]): CommandArgs[K] {
  return parsers[cmd](args) as CommandArgs[K];
}

const parsers: { [K in CommandName]: (args: string[]) => CommandArgs[K] } = {
  status: (a) => {
    if (a.length) throw bad('status', 'takes no arguments');
    return {};
  },
  'dry-run': (a) => {
    if (a.length !== 1 || (a[0] !== 'on' && a[0] !== 'off')) throw bad('dry-run on|off', `got ${JSON.stringify(a)}`);
    return { on: a[0] === 'on' };
  },
  'run-action': (a) => {
    if (a.length !== 1 || !ACTION.test(a[0]!)) throw bad('run-action <name>', `got ${JSON.stringify(a)}`);
    return { action: a[0]! };
  },
  set: (a) => {
    if (a.length < 2 || !OPTION_PATH.test(a[0]!)) throw bad('set <section.option> <value> [value...]', `got ${JSON.stringify(a.slice(0, 2))}`);
    return { path: a[0]!, values: a.slice(1) };
  },
  'learning-round': (a) => {
    if (a.length) throw bad('learning-round', 'takes no arguments');
    return {};
  },
};
