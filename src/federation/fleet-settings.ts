// Fleet-wide settings: one UCI option (`section.option` = value) signed by the fleet CA, spread
// through the fleet state, applied by every agent in memory through the same schema check as
// the MQTT `set` command. Some options can only be per node and are refused here, on the
// operator's machine (`pki setting`) and again on every router (the schema's `nodeLocal` flag
// marks the first three kinds):
//  - identity and files: a node's name, fleet, state dir, key/certificate/CRL paths;
//  - interfaces and addresses: mesh interface, status socket/port, mDNS interface, listen/peer;
//  - what would cut the fleet's own channel: federation.enabled, trust_domain, agent.fleet;
//  - secrets (they would travel to every router in the replicated state) and lists.
import { applyOption } from '../config/apply-option.ts';
import { formatConfigIssue } from '../config/config-error.ts';
import { findField, SCHEMA, sectionFields, type AgentConfig, type SectionName } from '../config/schema.ts';

/** Setting names are `section.option` in UCI spelling (what `pki setting` and the MQTT `set` take). */
export const SETTING_NAME = /^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,63}$/;

/** Why `name` cannot be a fleet-wide setting, or null when it can. */
export function fleetSettingProblem(name: string): string | null {
  if (!SETTING_NAME.test(name)) return `'${name.slice(0, 100)}' is not an option name like healing.cooldown`;
  const [section, option] = name.split('.') as [string, string];
  if (!Object.hasOwn(SCHEMA, section)) return `no section '${section}' in the agent's config`;
  const field = findField(section, option)?.[1];
  if (!field) return `no option '${option}' in section '${section}'`;
  if (field.nodeLocal) return `${name} is per router and cannot be set fleet-wide`;
  if (field.kind === 'list') return `${name} is a list; fleet settings carry one value`;
  if (field.type.secret) return `${name} is a secret; fleet settings are readable on every router`;
  return null;
}

export type FleetSettingChange =
  | { ok: true; config: AgentConfig; section: SectionName; option: string; previous: unknown; value: unknown }
  | { ok: false; reason: string };

/**
 * The config after fleet setting `name` took `value`, or, when the operator withdrew it (null),
 * went back to what `base` (the router's own UCI config) says. Nothing is changed in place.
 */
export function fleetSettingChange(current: AgentConfig, base: AgentConfig, name: string, value: string | null): FleetSettingChange {
  const problem = fleetSettingProblem(name);
  if (problem) return { ok: false, reason: problem };
  const [section, option] = name.split('.') as [SectionName, string];
  let raw = value;
  if (raw === null) {
    const [key, field] = sectionFields(section).find(([, f]) => f.uci === option)!;
    raw = field.type.format((base[section] as Record<string, unknown>)[key]);
  }
  const r = applyOption(current, name, raw, 'fleet setting');
  if (!r.ok) return { ok: false, reason: r.issues.map(formatConfigIssue).join('; ') };
  return { ok: true, config: r.config, section: r.section, option: r.option, previous: r.previous, value: r.value };
}
