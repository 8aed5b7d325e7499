// The configuration the agent uses when nothing is set: every schema default. The demo runs
// on it; the shipped /etc/config/x0tta6bl4 spells the same values out (a test keeps them equal).
import { SECTION_NAMES, sectionFields, type AgentConfig } from './schema.ts';

/** A fresh copy each call: callers may change it (e.g. `--dry-run` sets agent.dryRun). */
export function defaultConfig(): AgentConfig {
  const config: Record<string, Record<string, unknown>> = {};
  for (const section of SECTION_NAMES) {
    const values: Record<string, unknown> = {};
    for (const [key, field] of sectionFields(section)) values[key] = structuredClone(field.default);
    config[section] = values;
  }
  return config as AgentConfig;
}
