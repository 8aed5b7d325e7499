// The schema of /etc/config/x0tta6bl4: one named section per key (`config agent 'agent'`),
// one line per option. The AgentConfig type is derived from it, so adding an option is one
// line here: `camelCaseKey: option('uci_name', type, default, flags)`. The flags say how a
// change reaches a running agent (live or at the next start) and whether the option may be
// set fleet-wide; the MQTT `set`, fleet settings and the federation's reconfigure read them here.
import {
  absolutePath,
  bool,
  decimal,
  httpHeader,
  httpUrl,
  ifname,
  integer,
  matching,
  mqttUrl,
  multiaddr,
  oneOf,
  seconds,
  text,
  type OptionType,
} from './option-types.ts';

export interface Field<T> {
  /** The UCI option name (snake_case). */
  readonly uci: string;
  /** `option` holds one value; `list` holds many (`list peer …`; one `option peer …` is read as a list of one). */
  readonly kind: 'option' | 'list';
  /** The type of the value (of each item, for a list). */
  readonly type: OptionType<unknown>;
  readonly default: T;
  /**
   * 'live': a running agent takes a change over (MQTT `set`, a fleet setting); 'restart': the
   * option is read only when the parts start (procd restarts the agent on `uci commit`).
   */
  readonly apply: 'live' | 'restart';
  /**
   * Per router, never a fleet-wide setting: identity and files, interfaces and addresses, and
   * what would cut the fleet's own channel.
   */
  readonly nodeLocal: boolean;
}

export type OptionFlags = Partial<Pick<Field<unknown>, 'apply' | 'nodeLocal'>>;

// Most options are read when the parts start and may be set fleet-wide: the default.
const LIVE = { apply: 'live' } as const;
const NODE_LOCAL = { nodeLocal: true } as const;

function option<T>(uci: string, type: OptionType<T>, def: T, flags: OptionFlags = {}): Field<T> {
  return { uci, kind: 'option', type: type as OptionType<unknown>, default: def, apply: flags.apply ?? 'restart', nodeLocal: flags.nodeLocal ?? false };
}

function list<T>(uci: string, type: OptionType<T>, def: T[], flags: OptionFlags = {}): Field<T[]> {
  return { uci, kind: 'list', type: type as OptionType<unknown>, default: def, apply: flags.apply ?? 'restart', nodeLocal: flags.nodeLocal ?? false };
}

export const AGGREGATION_RULES = [
  'mean',
  'median',
  'trimmed_mean',
  'krum',
  'multi_krum',
  'bulyan',
  'geometric_median',
  'centered_clipping',
  'norm_clipping',
] as const;

export const SCHEMA = {
  agent: {
    enabled: option('enabled', bool, true, NODE_LOCAL),
    // Goes into MQTT topics and peer metadata: hostname characters only ('' = the hostname).
    nodeName: option('node_name', matching(/^$|^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a node name: up to 64 letters, digits, '_', '.' or '-' (starting with a letter or digit), or empty for the hostname"), '', NODE_LOCAL),
    fleet: option('fleet', matching(/^[A-Za-z0-9_-]{1,64}$/, "a fleet name: 1 to 64 letters, digits, '_' or '-'"), 'default', NODE_LOCAL),
    meshDriver: option('mesh_driver', oneOf(['batman-adv', 'simulator']), 'batman-adv', NODE_LOCAL),
    meshInterface: option('mesh_interface', ifname, 'bat0', NODE_LOCAL),
    stateDir: option('state_dir', absolutePath(), '/etc/x0tta6bl4', NODE_LOCAL),
    logLevel: option('log_level', oneOf(['debug', 'info', 'warn', 'error']), 'info'),
    dryRun: option('dry_run', bool, false, LIVE),
  },
  status: {
    // 107 bytes: sun_path holds 108 with the terminating NUL.
    socket: option('socket', absolutePath({ maxBytes: 107 }), '/var/run/x0tta6bl4/status.sock', NODE_LOCAL),
    httpPort: option('http_port', integer(0, 65535), 0, NODE_LOCAL),
  },
  healing: {
    enabled: option('enabled', bool, true),
    intervalS: option('interval', seconds(0.1, 60), 1),
    bootGraceS: option('boot_grace', seconds(0, 3600), 600),
    startupJitterS: option('startup_jitter', seconds(0, 600), 30),
    maxDisruptivePerHour: option('max_disruptive_per_hour', integer(0, 60), 3),
    allowReboot: option('allow_reboot', bool, false),
    // Commit-confirm: how long after an action connectivity is compared with before it.
    verifyWindowS: option('verify_window', seconds(1, 600), 10),
    // Temporary changes (orig_interval, hop penalty, bonding) are undone after this.
    holdS: option('hold', seconds(10, 86400), 120),
    // What orig_interval is lowered to in a bad spell: remote nodes reroute after five of this
    // node's OGMs. batman-adv's floor is 40 ms.
    fastOrigIntervalS: option('fast_orig_interval', seconds(0.04, 60), 0.1),
    // Seconds of fast OGMs (spells) allowed per hour: they cost every node's airtime, so spells are
    // refused, and held ones ended, once this is spent (0: no spells). 60 s adds at most 15 % to the
    // mesh's OGM airtime at 1 s / 100 ms (src/mapek/airtime-budget.ts).
    fastOgmBudgetS: option('fast_ogm_budget', seconds(0, 3600), 60),
    // A quarantined neighbour is released after this.
    quarantineS: option('quarantine', seconds(10, 86400), 300),
    // An action is not repeated on the same target within this.
    cooldownS: option('cooldown', seconds(0, 86400), 120),
    // Ping the selected gateway over batman-adv (batctl) every gateway_probe_interval s; two
    // failures in a row make it lost and re-election follows. Off by default: it sends packets.
    gatewayProbe: option('gateway_probe', bool, false),
    gatewayProbeIntervalS: option('gateway_probe_interval', seconds(2, 3600), 10),
    // Link echo (src/mesh/link-echo.ts): when a link that carries routes stops receiving, its
    // neighbour's agent is asked over UDP on the link's IPv6 link-local address; no answer makes
    // the link dead in about half a second instead of two. Costs 8 small frames per watched link
    // every 30 s. The port must be open on the mesh's hard interfaces.
    linkEcho: option('link_echo', bool, true),
    linkEchoPort: option('link_echo_port', integer(1, 65535), 4305, NODE_LOCAL),
    // Radio watch (src/mapek/radio-watch.ts): the nl80211 station statistics of Wi-Fi mesh
    // interfaces, read 4 times a second while a neighbour there carries routes; a neighbour whose
    // frames need more and more retries as its signal falls is steered off before the link dies.
    // Sends nothing. Wired interfaces are never read.
    radioWatch: option('radio_watch', bool, true),
  },
  telemetry: {
    enabled: option('enabled', bool, false),
    broker: option('broker', mqttUrl, ''),
    intervalS: option('interval', seconds(5, 3600), 60),
    username: option('username', text(256), ''),
    password: option('password', text(256, { secret: true }), ''),
    caFile: option('ca_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    certFile: option('cert_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    keyFile: option('key_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    // Fleet CA that certifies MQTT command signers; empty: <state_dir>/fleet-ca.pem if present.
    commandCaFile: option('command_ca_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    // QoS 1 events kept while the broker is away (oldest dropped first, counted).
    bufferLimit: option('buffer_limit', integer(10, 100000), 1000),
    // Copy of the event buffer on flash that survives agent restarts; empty: RAM only.
    bufferFile: option('buffer_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    // At most one rewrite of buffer_file per this many seconds (flash wear).
    bufferWriteIntervalS: option('buffer_write_interval', seconds(5, 3600), 60),
    // mqtt:// (no TLS) to a broker that is not on loopback.
    allowPlaintext: option('allow_plaintext', bool, false),
  },
  federation: {
    enabled: option('enabled', bool, false, NODE_LOCAL),
    listen: list('listen', multiaddr, ['/ip4/0.0.0.0/tcp/4001']),
    peers: list('peer', multiaddr, [], LIVE),
    maxConnections: option('max_connections', integer(1, 1024), 32),
    // Empty paths: the files `x0tta6bl4 pki` tells the operator to put in state_dir.
    keyFile: option('key_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    caFile: option('ca_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    certFile: option('cert_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    crlFile: option('crl_file', absolutePath({ optional: true }), '', NODE_LOCAL),
    // SPIFFE trust domain of the node certificates; empty: derived from agent.fleet.
    trustDomain: option('trust_domain', matching(/^$|^[a-z0-9._-]{1,255}$/, "a SPIFFE trust domain: lower-case letters, digits, '.', '_' or '-', or empty for the fleet's"), '', NODE_LOCAL),
    mdns: option('mdns', bool, true),
    // Interface mDNS announces and listens on; empty: agent.mesh_interface.
    mdnsInterface: option('mdns_interface', matching(/^$|^[A-Za-z0-9_.@:-]{1,15}$/, 'an interface name (up to 15 characters), or empty for agent.mesh_interface'), '', NODE_LOCAL),
    maxMessageBytes: option('max_message_size', integer(1024, 4194304), 1048576),
    // Per-peer gossip budget: messages per second sustained, and the burst above it.
    ratePerSecond: option('rate_limit', integer(1, 1000), 20, LIVE),
    rateBurst: option('rate_burst', integer(1, 10000), 100, LIVE),
    // Distinct admitted peers whose signed votes quarantine a peer fleet-wide.
    quarantineQuorum: option('quarantine_quorum', integer(1, 64), 3, LIVE),
    // Dial peers found in the signed fleet registry (peer exchange).
    peerExchange: option('peer_exchange', bool, true, LIVE),
  },
  learning: {
    enabled: option('enabled', bool, false),
    rule: option('rule', oneOf(AGGREGATION_RULES), 'centered_clipping'),
    byzantineF: option('byzantine_f', integer(0, 64), 1),
    roundIntervalS: option('round_interval', seconds(30, 86400), 300),
    // Label: "this link is dead within horizon seconds".
    horizonS: option('horizon', seconds(5, 3600), 30),
    // Updates averaged in buckets of this size before the robust rule (1: off).
    bucketing: option('bucketing', integer(1, 16), 2),
    // Worker momentum: each node sends its momentum, not its raw step (0: off).
    workerMomentum: option('worker_momentum', decimal(0, 0.99), 0.9),
    // A round closes after this long even if not every peer's update came in.
    roundTimeoutS: option('round_timeout', seconds(1, 600), 30),
    // Differential privacy on this node's update: clip to this L2 norm (0: off) and add
    // Gaussian noise of dp_noise_multiplier × dp_clip_norm.
    dpClipNorm: option('dp_clip_norm', decimal(0, 100), 0),
    dpNoiseMultiplier: option('dp_noise_multiplier', decimal(0, 100), 0),
    // Pairwise-masked sums (peers' single updates stay hidden); needs centered_clipping or norm_clipping.
    secureAggregation: option('secure_aggregation', bool, false),
    // Failure model file to start from (bench/kernel-model/export-model.ts); '' = random init. Needs enabled.
    initialModel: option('initial_model', absolutePath({ optional: true }), '', NODE_LOCAL),
  },
  tracing: {
    // Spans of healing cycles, commands and learning rounds, sent as OTLP/HTTP protobuf (docs/tracing.md).
    enabled: option('enabled', bool, false),
    // The collector's traces URL; a bare origin (http://host:4318) gets /v1/traces.
    endpoint: option('endpoint', httpUrl, ''),
    // `list header 'Authorization: Bearer …'`: sent with every export.
    headers: list('header', httpHeader, []),
    // Share of new traces recorded (0 to 1); a trace begun elsewhere follows its sender's decision.
    sampleRatio: option('sample_ratio', decimal(0, 1), 1),
    // Spans held while the collector is slow or away; more are dropped and counted.
    queueLimit: option('queue_limit', integer(16, 100000), 2048),
    caFile: option('ca_file', absolutePath({ optional: true }), '', NODE_LOCAL),
  },
  simulator: {
    nodes: option('nodes', integer(2, 200), 6),
    seed: option('seed', integer(0, 4294967295), 1),
    topology: option('topology', oneOf(['chain', 'ring', 'grid', 'mesh', 'diamond']), 'mesh'),
  },
} as const satisfies Record<string, Record<string, Field<unknown>>>;

type Schema = typeof SCHEMA;
type FieldValue<F> = F extends Field<infer T> ? T : never;

/** The agent's configuration: sections and options of SCHEMA, in camelCase. */
export type AgentConfig = {
  -readonly [S in keyof Schema]: { -readonly [K in keyof Schema[S]]: FieldValue<Schema[S][K]> };
};

export type SectionName = keyof Schema;
export const SECTION_NAMES = Object.keys(SCHEMA) as SectionName[];

/** The fields of one section as [camelCase key, field] pairs, in schema order. */
export function sectionFields(section: SectionName): [string, Field<unknown>][] {
  return Object.entries(SCHEMA[section]) as [string, Field<unknown>][];
}

/** The field of `section.option` (UCI names) as [camelCase key, field], or undefined. */
export function findField(section: string, option: string): [string, Field<unknown>] | undefined {
  if (!Object.hasOwn(SCHEMA, section)) return undefined;
  return sectionFields(section as SectionName).find(([, f]) => f.uci === option);
}

/** `section.option` names (UCI spelling, schema order) of the fields `pick` selects. */
export function optionNames(pick: (field: Field<unknown>) => boolean): string[] {
  return SECTION_NAMES.flatMap((s) => sectionFields(s).filter(([, f]) => pick(f)).map(([, f]) => `${s}.${f.uci}`));
}
