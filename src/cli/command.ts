// The contract every `x0tta6bl4 <command>` module implements. main.ts parses the flags a
// command declares, so that every command rejects unknown flags the same way.

/** 'number' and 'integer' take plain decimals only ("16", "0.5"), never 0x10, 1e3 or Infinity. */
export type FlagType = 'boolean' | 'string' | 'number' | 'integer';

export interface FlagSpec {
  type: FlagType;
  describe: string;
  /** Placeholder shown in help, e.g. PATH. */
  value?: string;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CliContext {
  flags: FlagValues;
  positionals: string[];
  io: CliIo;
  /** Resolves on Ctrl-C / SIGTERM: long-running commands stop cleanly when it does. */
  stopSignal: Promise<string>;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** The full --help text, without the flag list (main.ts appends it). */
  usage: string;
  flags: Record<string, FlagSpec>;
  run(ctx: CliContext): Promise<number>;
}

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on (bad config, agent not running): one line, exit code 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
