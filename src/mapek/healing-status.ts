// The loop's part of /status as a type only (Healer.status() fills it). Its own file, importing
// nothing but type files of this room, so that status/types.ts can name it without importing
// the loop — which imports status/ itself (a cycle).
import type { Connectivity, Finding } from './findings.ts';
import type { GatewayProbeState } from './gateway-probe.ts';
import type { JournalEntry } from './journal.ts';
import type { PlannedStep } from './plan.ts';
import type { SystemLoad } from './system-load.ts';

/** The loop's part of /status (schema-1 addition: `healing`). */
export interface HealingStatus {
  dryRun: boolean;
  findings: Finding[];
  plan: PlannedStep[];
  connectivity: Connectivity | null;
  journal: JournalEntry[];
  startupDelayS: number;
  /** Load and memory from /proc at the last reading; null where not read (simulator). */
  system: SystemLoad | null;
  /** Mesh settings changed outside the agent (batman-adv `config` events), newest last. */
  externalChanges: ExternalChange[];
  /** The last probe of the selected gateway; null when the probe is off or has not run. */
  gatewayProbe: GatewayProbeState | null;
}

/** A mesh setting changed by someone else (batctl, uci, another tool), seen in a config event. */
export interface ExternalChange {
  atMs: number;
  setting: string;
  from: unknown;
  to: unknown;
}
