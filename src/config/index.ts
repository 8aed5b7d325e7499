// The config room's public face: UCI text in and out, the x0tta6bl4 schema, loading and
// one-option changes.
export { parseUci, UciSyntaxError, MAX_UCI_BYTES, type UciParseOptions } from './uci-parser.ts';
export { serializeUci, quoteUci, UciSerializeError, type UciSerializeOptions } from './uci-serializer.ts';
export * from './uci-document.ts';
export { SCHEMA, SECTION_NAMES, AGGREGATION_RULES, type AgentConfig, type SectionName, type Field } from './schema.ts';
export { defaultConfig } from './defaults.ts';
export { ConfigError, formatConfigIssue, type ConfigIssue } from './config-error.ts';
export { loadConfig, parseConfigText, PACKAGE_NAME, type LoadedConfig } from './load.ts';
export { applyOption, type ApplyResult } from './apply-option.ts';
export { serializeAgentConfig, agentConfigToUci } from './serialize-config.ts';
