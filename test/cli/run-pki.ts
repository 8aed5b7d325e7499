// Runs `x0tta6bl4 pki ...` in-process, as main.ts would, and returns the exit code main would
// give (2 usage, the error's code for user errors, -1 for anything unexpected) with stdout.
import { pkiCommand } from '../../src/cli/commands/pki.ts';
import { parseArgs } from '../../src/cli/parse-args.ts';
import { UsageError, UserError } from '../../src/cli/command.ts';

export async function pki(...argv: string[]): Promise<{ code: number; out: string; error?: Error }> {
  let out = '';
  try {
    const { flags, positionals } = parseArgs(argv, pkiCommand.flags, 'pki');
    const code = await pkiCommand.run({ flags, positionals, io: { out: (s) => (out += s + '\n'), err: () => {} }, stopSignal: new Promise(() => {}) });
    return { code, out };
  } catch (e) {
    return { code: e instanceof UsageError ? 2 : e instanceof UserError ? e.exitCode : -1, out, error: e as Error };
  }
}
