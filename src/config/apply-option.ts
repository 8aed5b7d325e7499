// One option change through the schema, for the MQTT `set` command and fleet-wide settings:
// all or nothing. The input config is never changed; on success a changed copy comes
// back, on failure the issues say what was wrong and nothing was applied.
import type { ConfigIssue } from './config-error.ts';
import { crossCheck } from './cross-checks.ts';
import { SCHEMA, SECTION_NAMES, sectionFields, type AgentConfig, type SectionName } from './schema.ts';
import { parseField } from './validate.ts';
import { PACKAGE_NAME } from './load.ts';

export type ApplyResult =
  | {
      ok: true;
      config: AgentConfig;
      /** UCI names of what changed. */
      section: SectionName;
      option: string;
      /** The camelCase key in AgentConfig[section]. */
      key: string;
      previous: unknown;
      value: unknown;
      warnings: ConfigIssue[];
    }
  | { ok: false; issues: ConfigIssue[] };

/**
 * Sets `section.option` (UCI names, optionally prefixed `x0tta6bl4.`) to `value`: a string, or
 * for a list option a string[] (a single string is a list of one). `source` names where the
 * change came from in messages ('set', 'mqtt', ...).
 */
export function applyOption(config: AgentConfig, path: string, value: string | string[], source = 'set'): ApplyResult {
  const fail = (section: string | null, option: string | null, message: string): ApplyResult => ({
    ok: false,
    issues: [{ severity: 'error', file: source, line: null, section, option, message }],
  });
  // Callers pass what came off the wire (MQTT JSON, argv): check the shapes before anything else.
  if (typeof path !== 'string') return fail(null, null, `expected an option path 'section.option', found ${typeof path}`);
  if (typeof value !== 'string' && !(Array.isArray(value) && value.every((v) => typeof v === 'string')))
    return fail(null, null, `expected a string value (or a list of strings), found ${Array.isArray(value) ? 'a list with a non-string item' : typeof value}`);
  const parts = path.split('.');
  if (parts.length === 3 && parts[0] === PACKAGE_NAME) parts.shift();
  if (parts.length !== 2 || parts.some((p) => p === ''))
    return fail(null, null, `expected an option path 'section.option' such as 'agent.log_level', found '${path}'`);
  const [sectionName, optionName] = parts as [string, string];
  if (!Object.hasOwn(SCHEMA, sectionName))
    return fail(sectionName, null, `expected a section: one of ${SECTION_NAMES.join(', ')}; found '${sectionName}'`);
  const section = sectionName as SectionName;
  const fields = sectionFields(section);
  const entry = fields.find(([, f]) => f.uci === optionName);
  if (!entry)
    return fail(section, optionName, `expected an option of section '${section}': one of ${fields.map(([, f]) => f.uci).join(', ')}; found '${optionName}'`);
  const [key, field] = entry;
  const parsed = parseField(field, value);
  if ('message' in parsed) return fail(section, optionName, parsed.message);

  const next = structuredClone(config);
  const values = next[section] as Record<string, unknown>;
  const previous = values[key];
  values[key] = parsed.value;
  // Only problems this change introduced: a cross-field error that was already there is not its fault.
  const before = new Set(crossCheck(config, source).map((i) => `${i.section}.${i.option}:${i.message}`));
  const after = crossCheck(next, source).filter((i) => !before.has(`${i.section}.${i.option}:${i.message}`));
  const errors = after.filter((i) => i.severity === 'error');
  if (errors.length) return { ok: false, issues: errors };
  return { ok: true, config: next, section, option: optionName, key, previous, value: parsed.value, warnings: after.filter((i) => i.severity === 'warning') };
}
