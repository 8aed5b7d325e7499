// The `tracing` config section as createTracer's settings: `list header 'Name: value'` lines
// become a header map (a name given twice is sent once, values joined with ", " as HTTP allows).
import type { AgentConfig } from '../config/schema.ts';
import type { TracingSettings } from './tracer.ts';

export function tracingSettings(section: AgentConfig['tracing']): TracingSettings {
  const headers: Record<string, string> = {};
  const names = new Map<string, string>(); // lower-case name -> the spelling first seen
  for (const line of section.headers) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // the schema refuses these; never crash on them
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return {
    enabled: section.enabled,
    endpoint: section.endpoint,
    headers,
    sampleRatio: section.sampleRatio,
    queueLimit: section.queueLimit,
    ...(section.caFile ? { caFile: section.caFile } : {}),
  };
}
