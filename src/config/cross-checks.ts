// Checks that involve more than one option. Each returns issues pointing at the option to fix
// (its line if it is in the file, else its section's line).
import type { ConfigIssue } from './config-error.ts';
import type { AgentConfig, SectionName } from './schema.ts';
import { redactUrl } from './redact-url.ts';

/** Where each section and option was found in the file, for messages. */
export interface SourceLines {
  section(section: SectionName): number | null;
  option(section: SectionName, uciOption: string): number | null;
}

export const NO_LINES: SourceLines = { section: () => null, option: () => null };

export function crossCheck(config: AgentConfig, file: string, lines: SourceLines = NO_LINES): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (severity: ConfigIssue['severity'], section: SectionName, option: string, message: string): void => {
    issues.push({ severity, file, line: lines.option(section, option) ?? lines.section(section), section, option, message });
  };
  const t = config.telemetry;
  if (t.enabled && t.broker === '')
    at('error', 'telemetry', 'broker', 'required when telemetry is enabled: expected an MQTT URL (mqtt://, mqtts://, ws:// or wss://), found nothing');
  if (t.certFile !== '' && t.keyFile === '')
    at('error', 'telemetry', 'key_file', 'required when cert_file is set (a client certificate needs its key), found nothing');
  if (t.keyFile !== '' && t.certFile === '')
    at('error', 'telemetry', 'cert_file', 'required when key_file is set (a client key needs its certificate), found nothing');
  if ((t.caFile || t.certFile) && /^(mqtt|ws):/.test(t.broker))
    at('warning', 'telemetry', 'broker', `TLS files are set but '${redactUrl(t.broker)}' does not use TLS: expected mqtts:// or wss://`);
  if (t.password !== '' && t.username === '')
    at('warning', 'telemetry', 'username', 'a password is set without a username: MQTT brokers ignore it');

  const l = config.learning;
  if (l.enabled && !config.federation.enabled)
    at('warning', 'learning', 'enabled', 'learning is on but federation is off: the model will train on local data only');
  if (l.enabled && l.rule === 'mean' && l.byzantineF > 0)
    at('warning', 'learning', 'rule', `'mean' tolerates no Byzantine peers, so byzantine_f '${l.byzantineF}' has no effect: choose a robust rule or set byzantine_f '0'`);

  if (l.dpNoiseMultiplier > 0 && l.dpClipNorm === 0)
    at('error', 'learning', 'dp_clip_norm', `required when dp_noise_multiplier is set (the noise is dp_noise_multiplier × dp_clip_norm): expected a number > 0, found '0'`);
  if (l.secureAggregation && l.rule !== 'centered_clipping' && l.rule !== 'norm_clipping')
    at('error', 'learning', 'rule', `secure aggregation shows only the sum of the updates, which '${l.rule}' cannot use: expected centered_clipping or norm_clipping`);
  if (l.secureAggregation && l.dpClipNorm === 0)
    at('error', 'learning', 'dp_clip_norm', "required when secure_aggregation is on (it bounds each peer's hidden update): expected a number > 0, found '0'");
  // Masked updates are summed as fixed point (2^20) in 32 bits for up to 64 peers.
  if (l.secureAggregation && l.dpClipNorm >= 32)
    at('error', 'learning', 'dp_clip_norm', `below 32 when secure_aggregation is on (64 masked updates must fit in 32 bits): found '${l.dpClipNorm}'`);
  if (l.roundTimeoutS >= l.roundIntervalS)
    at('warning', 'learning', 'round_timeout', `'${l.roundTimeoutS}' is not shorter than round_interval '${l.roundIntervalS}': a slow round would still be open when the next one starts`);

  const tr = config.tracing;
  if (tr.enabled && tr.endpoint === '')
    at('error', 'tracing', 'endpoint', 'required when tracing is enabled: expected an http:// or https:// OTLP traces URL, found nothing');
  if (tr.caFile !== '' && tr.endpoint.startsWith('http:'))
    at('warning', 'tracing', 'endpoint', `ca_file is set but '${redactUrl(tr.endpoint)}' does not use TLS: expected https://`);

  const f = config.federation;
  if (f.enabled && f.listen.length === 0)
    at('error', 'federation', 'listen', 'at least one listen address is required when federation is enabled, found none');
  if (f.rateBurst < f.ratePerSecond)
    at('warning', 'federation', 'rate_burst', `'${f.rateBurst}' is below rate_limit '${f.ratePerSecond}': a peer could never send a full second's worth at once`);
  return issues;
}
