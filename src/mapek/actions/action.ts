// The contract every repair action keeps: apply (returning what it needs to undo itself), check
// that its effect is in place, and revert. The executor adds the commit-confirm around it.
import type { MeshDriver, MeshSettings } from '../../mesh/driver.ts';
import type { CommandRunner } from '../command-runner.ts';

export type ActionKind =
  | 'orig-interval'
  | 'bonding'
  | 'gateway-reselect'
  | 'steer-interface'
  | 'steer-neighbour'
  | 'quarantine'
  | 'purge-neighbours'
  | 'restart-interface'
  | 'restart-service'
  | 'reboot';

export interface ActionTarget {
  ifname?: string;
  neighbour?: string;
}

/** What an action needs to undo itself; persisted in the journal, so plain JSON. */
export type RevertState = Record<string, string | number | boolean | null>;

export interface ActionContext {
  driver: MeshDriver;
  run: CommandRunner;
  /** The mesh settings as the agent first found them: temporary changes restore these, never a value an earlier action left. */
  baseline: MeshSettings;
  /** Waits while the system acts (real: a timer; simulator: virtual time passes). */
  sleep: (ms: number) => Promise<void>;
  /** What orig-interval lowers orig_interval to (healing.fast_orig_interval). */
  fastOrigIntervalMs: number;
  /** Whether a hard interface is a Wi-Fi one (cfg80211); absent: none is (simulator, tests). */
  wireless?: (ifname: string) => Promise<boolean>;
}

export interface HealAction {
  readonly kind: ActionKind;
  /** Position on the escalation ladder: 1 tune a knob … 6 reboot. */
  readonly rung: number;
  /** Interrupts traffic: counted against the hourly limit, never two at once. */
  readonly disruptive: boolean;
  /** What it acts on: nothing, an interface (IFNAME), or a neighbour on an interface (IFNAME/NEIGHBOUR). */
  readonly target: 'none' | 'interface' | 'neighbour';
  /** Undone after the hold time even when it helped (settings meant for a bad spell only). */
  readonly temporary: boolean;
  describe(t: ActionTarget): string;
  /** Reads what revert will need, changing nothing: journaled before apply, so a crash in apply can still be undone. Throws ActionError when the action does not apply here. */
  prepare(ctx: ActionContext, t: ActionTarget): Promise<RevertState | null>;
  apply(ctx: ActionContext, t: ActionTarget): Promise<void>;
  /** null when the effect is in place, else why not. */
  check(ctx: ActionContext, t: ActionTarget, state: RevertState | null): Promise<string | null>;
  revert?(ctx: ActionContext, t: ActionTarget, state: RevertState): Promise<void>;
}

export class ActionError extends Error {
  override readonly name: string = 'ActionError';
}

/**
 * Thrown by revert when the setting no longer holds what the action set: someone else (an
 * operator with batctl or uci) changed it since. Their value stays; the agent does not restore over it.
 */
export class SupersededError extends ActionError {
  override readonly name = 'SupersededError';
}

export function requireIfname(t: ActionTarget): string {
  // Interface names go into command lines: only what Linux allows, and nothing a shell or nft would read.
  if (!t.ifname || !/^[A-Za-z0-9_.-]{1,15}$/.test(t.ifname) || t.ifname === '.' || t.ifname === '..') throw new ActionError(`not an interface name: ${String(t.ifname)}`);
  return t.ifname;
}

export function requireMac(t: ActionTarget): string {
  const m = t.neighbour?.toLowerCase();
  if (!m || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m)) throw new ActionError(`not a MAC address: ${String(t.neighbour)}`);
  return m;
}
