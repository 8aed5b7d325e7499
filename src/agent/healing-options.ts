// The `healing` section of the config mapped onto the options of the MAPE-K loop's Monitor and
// Healer: UCI speaks seconds, the loop milliseconds, and the defaults that depend on the driver
// (journal on flash, gateway probe) are decided here, once.
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.ts';
import { batctlPingProbe } from '../mapek/gateway-probe.ts';
import type { HealerOptions } from '../mapek/healer.ts';
import type { MonitorOptions } from '../mapek/monitor.ts';
import { isWireless } from '../mesh/radio-stations.ts';

/** What the Healer gets from the agent rather than from the config. */
export type HealerParts = Omit<HealerOptions, 'plan' | 'execute' | 'fastOrigIntervalMs' | 'gatewayProbe' | 'journalPath' | 'wireless'> & {
  /** The journal file when the caller chooses it; undefined: <state_dir>/journal.json on a router, none on a simulated mesh. */
  journalPath?: string | null;
};

export function healerOptions(config: AgentConfig, parts: HealerParts): HealerOptions {
  const healing = config.healing;
  const { journalPath, ...rest } = parts;
  const simulated = parts.driver.kind === 'simulator';
  return {
    ...rest,
    journalPath: journalPath !== undefined ? journalPath : simulated ? null : join(config.agent.stateDir, 'journal.json'),
    plan: {
      dryRun: config.agent.dryRun,
      bootGraceMs: healing.bootGraceS * 1000,
      startupJitterMs: healing.startupJitterS * 1000,
      maxDisruptivePerHour: healing.maxDisruptivePerHour,
      allowReboot: healing.allowReboot,
      cooldownMs: {},
      defaultCooldownMs: healing.cooldownS * 1000,
      fastOgmBudgetMs: healing.fastOgmBudgetS * 1000,
    },
    execute: { verifyWindowMs: healing.verifyWindowS * 1000, holdMs: healing.holdS * 1000, quarantineMs: healing.quarantineS * 1000, fastOgmBudgetMs: healing.fastOgmBudgetS * 1000 },
    fastOrigIntervalMs: Math.round(healing.fastOrigIntervalS * 1000),
    ...(simulated ? {} : { wireless: isWireless }),
    // batctl ping through the host runner; never on a simulated mesh (no batctl there).
    gatewayProbe:
      !simulated && healing.gatewayProbe
        ? { probe: batctlPingProbe(parts.run, config.agent.meshInterface), everyMs: healing.gatewayProbeIntervalS * 1000 }
        : null,
  };
}

export function monitorOptions(config: AgentConfig, parts: Omit<MonitorOptions, 'intervalMs'>): MonitorOptions {
  return { ...parts, intervalMs: Math.round(config.healing.intervalS * 1000) };
}
