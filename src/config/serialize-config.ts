// An AgentConfig as /etc/config/x0tta6bl4 text: every section named as its type, every option in
// schema order, in `uci export` form (the agent never writes its UCI file; this is for tools and
// the round-trip tests).
import { SECTION_NAMES, sectionFields, type AgentConfig } from './schema.ts';
import type { UciOption, UciPackage, UciSection } from './uci-document.ts';
import { serializeUci } from './uci-serializer.ts';
import { PACKAGE_NAME } from './load.ts';

export function agentConfigToUci(config: AgentConfig): UciPackage {
  const sections: UciSection[] = SECTION_NAMES.map((name) => {
    const values = config[name] as Record<string, unknown>;
    const options = new Map<string, UciOption>();
    for (const [key, field] of sectionFields(name)) {
      const v = values[key];
      if (field.kind === 'list') {
        const items = (v as unknown[]).map((x) => field.type.format(x));
        // uci has no empty list: leaving it out means "default", so an emptied list cannot be
        // written; the default of every list field that could matter here is empty or harmless.
        if (items.length) options.set(field.uci, { kind: 'list', name: field.uci, values: items, lines: [], alsoSetAt: [] });
      } else {
        options.set(field.uci, { kind: 'option', name: field.uci, value: field.type.format(v), line: 0, column: 0, alsoSetAt: [] });
      }
    }
    return { type: name, name, typeIndex: 0, line: 0, lines: [], options };
  });
  return { name: PACKAGE_NAME, line: null, sections };
}

/** The config as UCI file text (no `package` header, like the files in /etc/config). */
export function serializeAgentConfig(config: AgentConfig): string {
  return serializeUci([agentConfigToUci(config)], { header: false });
}
