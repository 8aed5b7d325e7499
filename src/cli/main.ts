#!/usr/bin/env node
// x0tta6bl4 command line: one binary for the daemon, the operator's tools and the demo.
// The Node version check and the globals libp2p needs come first: imports evaluate in order.
import './require-node.ts';
import '../federation/web-globals-polyfill.ts';
import { UsageError, UserError, type CliCommand, type CliIo } from './command.ts';
import { formatFlags, parseArgs } from './parse-args.ts';
import { VERSION } from '../version.ts';
import { commands } from './commands/index.ts';
import { escapePrintable } from '../config/printable.ts';

const io: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    `x0tta6bl4 ${VERSION} — self-healing mesh node agent for batman-adv on OpenWrt`,
    '',
    'usage: x0tta6bl4 <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'options:',
    '  --version     print the version',
    '  -h, --help    show this help (`x0tta6bl4 <command> --help` for a command)',
  ].join('\n');
}

export function commandHelp(cmd: CliCommand): string {
  return `${cmd.usage.trimEnd()}\n\noptions:\n${formatFlags(cmd.flags)}`;
}

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const topLevel = first === '-h' || first === '--help' || first === 'help' || first === '--version' || first === '-V';
  // `x0tta6bl4 --version extra` is a typo or a script bug, not a request for the version.
  if (topLevel && rest.length) throw new UsageError(`${first} takes no arguments (got '${rest[0]}'; for a command's help: x0tta6bl4 <command> --help)`);
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.out(topHelp());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    io.out(VERSION);
    return 0;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command '${first}' (see x0tta6bl4 --help)`);
  const parsed = parseArgs(rest, cmd.flags, cmd.name);
  if (parsed.help) {
    io.out(commandHelp(cmd));
    return 0;
  }
  return cmd.run({ flags: parsed.flags, positionals: parsed.positionals, io, stopSignal: stopSignal() });
}

// User errors are one line without a stack trace, with whatever they quote from argv or files
// escaped (a newline or U+202E must not forge or hide text); anything else is a bug and keeps its stack.
async function entry(): Promise<void> {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`x0tta6bl4: ${escapePrintable(e.message)}`);
      code = 2;
    } else if (e instanceof UserError) {
      io.err(`x0tta6bl4: ${escapePrintable(e.message)}`);
      code = e.exitCode;
    } else {
      io.err(`x0tta6bl4: internal error: ${(e as Error)?.stack ?? String(e)}`);
      code = 70;
    }
  }
  // Exit explicitly: a command that returned is done, whatever handles a library left open.
  process.exit(code);
}

await entry();
