// The x0tta6bl4 schema: defaults, each value type's errors with file:line, unknown names as
// warnings, section rules, cross-field checks, applyOption and serializeAgentConfig.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  applyOption,
  ConfigError,
  defaultConfig,
  formatConfigIssue,
  parseConfigText,
  SCHEMA,
  SECTION_NAMES,
  serializeAgentConfig,
  type ConfigIssue,
  type Field,
} from '../../src/config/index.ts';
import { optionNames } from '../../src/config/schema.ts';

function errorsOf(text: string, file = 'test.conf'): ConfigIssue[] {
  try {
    parseConfigText(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

/** One option in its section: the single error it gives, checked for file, line, section, option. */
function oneError(section: string, line: string, optionName: string): ConfigIssue {
  const issues = errorsOf(`# line 1\nconfig ${section} '${section}'\n\t# line 3\n${line}\n`);
  assert.is(issues.length, 1, JSON.stringify(issues));
  const i = issues[0]!;
  assert.is(i.severity, 'error');
  assert.is(i.file, 'test.conf');
  assert.is(i.line, 4);
  assert.is(i.section, section);
  assert.is(i.option, optionName);
  return i;
}

test('defaults are the documented ones', () => {
  const c = defaultConfig();
  assert.equal(c.agent, {
    enabled: true,
    nodeName: '',
    fleet: 'default',
    meshDriver: 'batman-adv',
    meshInterface: 'bat0',
    stateDir: '/etc/x0tta6bl4',
    logLevel: 'info',
    dryRun: false,
  });
  assert.equal(c.status, { socket: '/var/run/x0tta6bl4/status.sock', httpPort: 0 });
  assert.equal(c.healing, {
    enabled: true, intervalS: 1, bootGraceS: 600, startupJitterS: 30, maxDisruptivePerHour: 3, allowReboot: false,
    verifyWindowS: 10, holdS: 120, quarantineS: 300, cooldownS: 120, gatewayProbe: false, gatewayProbeIntervalS: 10, fastOrigIntervalS: 0.1, fastOgmBudgetS: 60, linkEcho: true, linkEchoPort: 4305, radioWatch: true,
  });
  assert.is(c.telemetry.enabled, false);
  assert.is(c.telemetry.intervalS, 60);
  assert.equal(c.federation, {
    enabled: false, listen: ['/ip4/0.0.0.0/tcp/4001'], peers: [], maxConnections: 32,
    keyFile: '', caFile: '', certFile: '', crlFile: '', trustDomain: '', mdns: true, mdnsInterface: '',
    maxMessageBytes: 1048576, ratePerSecond: 20, rateBurst: 100, quarantineQuorum: 3, peerExchange: true,
  });
  assert.equal(c.learning, {
    enabled: false, rule: 'centered_clipping', byzantineF: 1, roundIntervalS: 300, horizonS: 30, bucketing: 2,
    workerMomentum: 0.9, roundTimeoutS: 30, dpClipNorm: 0, dpNoiseMultiplier: 0, secureAggregation: false, initialModel: '',
  });
  assert.equal(c.simulator, { nodes: 6, seed: 1, topology: 'mesh' });
});

test('defaultConfig returns a fresh copy each time', () => {
  const a = defaultConfig();
  a.agent.dryRun = true;
  a.federation.listen.push('/ip4/1.2.3.4/tcp/1');
  const b = defaultConfig();
  assert.is(b.agent.dryRun, false);
  assert.equal(b.federation.listen, ['/ip4/0.0.0.0/tcp/4001']);
});

test('every default is a valid value of its own type', () => {
  for (const section of SECTION_NAMES) {
    for (const [key, field] of Object.entries(SCHEMA[section])) {
      const values = field.kind === 'list' ? (field.default as unknown[]) : [field.default];
      for (const v of values) {
        const r = field.type.parse(field.type.format(v));
        assert.ok(r.ok && r.value === v, `${section}.${key}`);
      }
    }
  }
});

// How each option reaches a running agent, and whether it may be fleet-wide, is declared once in
// the schema. These were the hand-kept lists before (NODE_LOCAL in fleet-settings.ts,
// LIVE_OPTIONS/RESTART_OPTIONS in federation.ts, Agent.applyLive): the schema must say the same.
const NODE_LOCAL_BEFORE = [
  'agent.enabled', 'agent.node_name', 'agent.fleet', 'agent.mesh_driver', 'agent.mesh_interface', 'agent.state_dir',
  'status.socket', 'status.http_port',
  'telemetry.ca_file', 'telemetry.cert_file', 'telemetry.key_file', 'telemetry.command_ca_file', 'telemetry.buffer_file',
  'federation.enabled', 'federation.key_file', 'federation.ca_file', 'federation.cert_file', 'federation.crl_file',
  'federation.trust_domain', 'federation.mdns_interface',
  // Added with the tracing section: a file path, per router like the other ca_file options.
  'tracing.ca_file',
  // The seed failure model (issue 20): a file path, per router.
  'learning.initial_model',
  // The link echo's port (issue 20): the router's firewall must open it, so a fleet cannot move it.
  'healing.link_echo_port',
];
const FEDERATION_LIVE_BEFORE = ['ratePerSecond', 'rateBurst', 'quarantineQuorum', 'peerExchange', 'peers'];
const FEDERATION_RESTART_BEFORE = ['listen', 'maxConnections', 'keyFile', 'caFile', 'certFile', 'crlFile', 'trustDomain', 'mdns', 'mdnsInterface', 'maxMessageBytes'];
// Agent.applyLive took agent.dry_run itself and the federation's live options through reconfigure.
const LIVE_BEFORE = ['agent.dry_run', 'federation.rate_limit', 'federation.rate_burst', 'federation.quarantine_quorum', 'federation.peer_exchange', 'federation.peer'];

test('every option has its flags: apply live or restart, node-local or not', () => {
  for (const section of SECTION_NAMES) {
    for (const [key, field] of Object.entries(SCHEMA[section]) as [string, Field<unknown>][]) {
      assert.ok(field.apply === 'live' || field.apply === 'restart', `${section}.${key}: apply`);
      assert.type(field.nodeLocal, 'boolean', `${section}.${key}: nodeLocal`);
    }
  }
});

test('the flags say what the hand-kept lists said', () => {
  const sorted = (a: string[]) => [...a].sort();
  assert.equal(sorted(optionNames((f) => f.nodeLocal)), sorted(NODE_LOCAL_BEFORE));
  assert.equal(sorted(optionNames((f) => f.apply === 'live')), sorted(LIVE_BEFORE));
  const federation = Object.entries(SCHEMA.federation) as [string, Field<unknown>][];
  assert.equal(sorted(federation.filter(([, f]) => f.apply === 'live').map(([k]) => k)), sorted(FEDERATION_LIVE_BEFORE));
  // federation.enabled was in neither list: turning the federation on or off is a restart.
  assert.equal(sorted(federation.filter(([, f]) => f.apply === 'restart').map(([k]) => k)), sorted([...FEDERATION_RESTART_BEFORE, 'enabled']));
});

test('an empty file or empty sections mean all defaults', () => {
  assert.equal(parseConfigText('', 'e').config, defaultConfig());
  assert.equal(parseConfigText("config agent 'agent'\nconfig healing 'healing'\n", 'e').config, defaultConfig());
});

test('values are read: every type', () => {
  const { config, warnings } = parseConfigText(
    [
      "config agent 'agent'",
      " option enabled 'no'",
      " option node_name 'node-7.lab'",
      " option fleet 'city_west-2'",
      " option mesh_driver 'simulator'",
      " option mesh_interface 'bat-lab0'",
      " option log_level debug",
      ' option dry_run on',
      "config status 'status'",
      ' option http_port 9100',
      "config healing 'healing'",
      " option interval '0.25'",
      ' option allow_reboot enabled',
      "config telemetry 'telemetry'",
      ' option enabled 1',
      " option broker 'mqtts://broker.example:8883'",
      " option username 'u'",
      " option password 'p@ss w'\\''rd'",
      " option ca_file '/etc/ssl/ca.pem'",
      "config federation 'federation'",
      ' option enabled 1',
      " list listen '/ip4/0.0.0.0/tcp/4001'",
      " list listen '/ip6/::/tcp/4001'",
      " list peer '/dns4/peer.example/tcp/4001/p2p/12D3KooWAbc'",
      "config learning 'learning'",
      ' option rule krum',
      ' option byzantine_f 0',
      " option worker_momentum '0.5'",
      " option dp_clip_norm '1.5'",
      " option dp_noise_multiplier '1.1'",
      "config simulator 'simulator'",
      ' option seed 4294967295',
      ' option topology ring',
    ].join('\n'),
    'full.conf',
  );
  assert.equal(warnings, []);
  assert.is(config.agent.enabled, false);
  assert.is(config.agent.nodeName, 'node-7.lab');
  assert.is(config.agent.fleet, 'city_west-2');
  assert.is(config.agent.meshDriver, 'simulator');
  assert.is(config.agent.meshInterface, 'bat-lab0');
  assert.is(config.agent.logLevel, 'debug');
  assert.is(config.agent.dryRun, true);
  assert.is(config.status.httpPort, 9100);
  assert.is(config.healing.intervalS, 0.25);
  assert.is(config.healing.allowReboot, true);
  assert.is(config.telemetry.broker, 'mqtts://broker.example:8883');
  assert.is(config.telemetry.password, "p@ss w'rd");
  assert.is(config.telemetry.caFile, '/etc/ssl/ca.pem');
  assert.equal(config.federation.listen, ['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001']);
  assert.equal(config.federation.peers, ['/dns4/peer.example/tcp/4001/p2p/12D3KooWAbc']);
  assert.is(config.learning.rule, 'krum');
  assert.is(config.learning.byzantineF, 0);
  assert.is(config.learning.workerMomentum, 0.5);
  assert.is(config.learning.dpClipNorm, 1.5);
  assert.is(config.learning.dpNoiseMultiplier, 1.1);
  assert.is(config.simulator.seed, 4294967295);
  assert.is(config.simulator.topology, 'ring');
});

test('booleans: the OpenWrt words exactly, nothing else', () => {
  for (const [raw, want] of [['1', true], ['on', true], ['true', true], ['yes', true], ['enabled', true], ['0', false], ['off', false], ['false', false], ['no', false], ['disabled', false]] as const)
    assert.is(parseConfigText(`config agent 'agent'\n option dry_run '${raw}'`, 'b').config.agent.dryRun, want, raw);
  for (const raw of ['maybe', 'TRUE', 'Yes', '2', ' 1'])
    assert.match(oneError('agent', ` option dry_run '${raw}'`, 'dry_run').message, /expected a boolean: 1\/on\/true\/yes\/enabled or 0\/off\/false\/no\/disabled, found/);
});

test('each type names what it expected and what it found, at the option line', () => {
  const cases: [string, string, string, RegExp][] = [
    ['healing', " option max_disruptive_per_hour '61'", 'max_disruptive_per_hour', /expected an integer from 0 to 60, found '61'/],
    ['healing', " option max_disruptive_per_hour '2.5'", 'max_disruptive_per_hour', /expected an integer from 0 to 60, found '2.5'/],
    ['healing', " option max_disruptive_per_hour '0x3'", 'max_disruptive_per_hour', /integer/],
    ['healing', " option interval '0.05'", 'interval', /expected a number of seconds from 0.1 to 60, found '0.05'/],
    ['healing', " option interval '5s'", 'interval', /number of seconds/],
    ['healing', " option boot_grace '-1'", 'boot_grace', /from 0 to 3600/],
    ['agent', " option log_level 'verbose'", 'log_level', /expected one of debug, info, warn, error, found 'verbose'/],
    ['agent', " option mesh_driver 'olsr'", 'mesh_driver', /one of batman-adv, simulator/],
    ['agent', " option fleet 'west side'", 'fleet', /fleet name: 1 to 64 letters, digits, '_' or '-'/],
    ['agent', ` option fleet '${'f'.repeat(65)}'`, 'fleet', /fleet name/],
    ['agent', " option node_name 'a/b'", 'node_name', /node name/],
    ['agent', " option mesh_interface 'bat0/x'", 'mesh_interface', /interface name: 1 to 15 bytes/],
    ['agent', " option mesh_interface 'a-very-long-name0'", 'mesh_interface', /interface name/],
    ['agent', " option mesh_interface 'bat 0'", 'mesh_interface', /interface name/],
    ['agent', " option state_dir 'var/lib'", 'state_dir', /absolute path/],
    ['status', ` option socket '/tmp/${'s'.repeat(110)}'`, 'socket', /at most 107 bytes/],
    ['status', " option http_port '65536'", 'http_port', /from 0 to 65535/],
    ['telemetry', " option broker 'http://broker:1883'", 'broker', /MQTT URL/],
    ['telemetry', " option broker 'broker:1883'", 'broker', /MQTT URL/],
    ['telemetry', " option cert_file 'cert.pem'", 'cert_file', /absolute path.*or empty/],
    ['federation', " list listen '/ip4/300.0.0.1/tcp/1'", 'listen', /item 1: expected a multiaddr/],
    ['federation', " list peer 'tcp://10.0.0.1:4001'", 'peer', /multiaddr/],
    ['federation', " option max_connections '0'", 'max_connections', /from 1 to 1024/],
    ['learning', " option rule 'average'", 'rule', /one of mean, median, trimmed_mean, krum, multi_krum, bulyan, geometric_median, centered_clipping, norm_clipping/],
    ['learning', " option byzantine_f '65'", 'byzantine_f', /from 0 to 64/],
    ['learning', " option round_interval '10'", 'round_interval', /from 30 to 86400/],
    ['learning', " option worker_momentum '1'", 'worker_momentum', /a number from 0 to 0.99/],
    ['learning', " option dp_clip_norm '1e3'", 'dp_clip_norm', /a number from 0 to 100/],
    ['learning', " option bucketing '0'", 'bucketing', /from 1 to 16/],
    ['federation', " option trust_domain 'Fleet.Example'", 'trust_domain', /SPIFFE trust domain/],
    ['federation', " option max_message_size '512'", 'max_message_size', /from 1024 to 4194304/],
    ['federation', " option key_file 'federation.key'", 'key_file', /absolute path/],
    ['simulator', " option nodes '1'", 'nodes', /from 2 to 200/],
    ['simulator', " option seed '4294967296'", 'seed', /from 0 to 4294967295/],
    ['simulator', " option topology 'star'", 'topology', /chain, ring, grid, mesh, diamond/],
  ];
  for (const [section, line, option, message] of cases) {
    const i = oneError(section, line, option);
    assert.match(i.message, message, `${section}: ${line} -> ${i.message}`);
  }
});

test('the line of a bad list item is that item', () => {
  const issues = errorsOf("config federation 'federation'\n list peer '/ip4/10.0.0.1/tcp/1'\n list peer 'nope'\n");
  assert.is(issues[0]!.line, 3);
});

test('a secret is never echoed in a message', () => {
  const i = oneError('telemetry', " option password 'hunter2\x7f'", 'password');
  assert.not.match(i.message, /hunter2/);
  assert.match(i.message, /a value of 8 characters/);
});

test('every error is reported at once, formatted as file:line: section.option: message', () => {
  const text = "config agent 'agent'\n option log_level loud\n option fleet ''\n option fleet 'a b'\nconfig simulator 'simulator'\n option nodes 1000\n";
  const issues = errorsOf(text, '/etc/config/x0tta6bl4');
  assert.equal(
    issues.map(formatConfigIssue),
    [
      "/etc/config/x0tta6bl4:2: agent.log_level: expected one of debug, info, warn, error, found 'loud'",
      "/etc/config/x0tta6bl4:4: agent.fleet: expected a fleet name: 1 to 64 letters, digits, '_' or '-', found 'a b'",
      "/etc/config/x0tta6bl4:6: simulator.nodes: expected an integer from 2 to 200, found '1000'",
    ],
  );
  try {
    parseConfigText(text, '/etc/config/x0tta6bl4');
    assert.unreachable('accepted');
  } catch (e) {
    // One line (a log line, an MQTT reply): the issues joined with '; ', after their count.
    assert.is((e as Error).message, `3 errors: ${issues.map(formatConfigIssue).join('; ')}`);
  }
});

test('unknown options and sections are warnings with a suggestion', () => {
  const { config, warnings } = parseConfigText("config agent 'agent'\n option log_levl debug\n option colour blue\nconfig healng 'healng'\nconfig mystuff\n", 'w.conf');
  assert.equal(config, defaultConfig());
  assert.equal(
    warnings.map(formatConfigIssue),
    [
      "w.conf:4: healng: unknown section type 'healng', ignored (did you mean 'healing'?)",
      'w.conf:5: @mystuff[0]: unknown section type \'mystuff\', ignored',
      "w.conf:2: agent.log_levl: unknown option, ignored (did you mean 'log_level'?)",
      'w.conf:3: agent.colour: unknown option, ignored',
    ],
  );
});

test('a syntax error is a ConfigError with the line and column', () => {
  const issues = errorsOf("config agent 'agent'\n option enabled 'yes\n", 'syn.conf');
  assert.is(issues.length, 1);
  assert.is(issues[0]!.line, 2);
  assert.match(issues[0]!.message, /syntax error at column 17: expected a closing '/);
});

test('section rules: duplicate named section, wrong name, wrong type, two of a type', () => {
  // A repeated named section merges as in libuci (a warning, not an error); its options are checked.
  const dup = errorsOf("config agent 'agent'\n option fleet a\nconfig healing 'healing'\nconfig agent 'agent'\n option log_level nope\n");
  assert.equal(dup.map((i) => [i.line, i.section, i.option]), [[5, 'agent', 'log_level']]);
  const merged = parseConfigText("config agent 'agent'\n option fleet a\nconfig agent 'agent'\n option log_level warn\n", 'm.conf');
  assert.equal([merged.config.agent.fleet, merged.config.agent.logLevel], ['a', 'warn']);
  assert.equal(merged.warnings.map((w) => [w.severity, w.line]), [['warning', 3]]);
  assert.match(merged.warnings[0]!.message, /section 'agent' is defined again \(first at line 1\): libuci merges/);
  const wrongName = errorsOf("config agent 'main'\n");
  assert.match(wrongName[0]!.message, /expected config agent 'agent', found config agent 'main'/);
  const wrongType = errorsOf("config daemon 'agent'\n");
  assert.match(wrongType[0]!.message, /expected config agent 'agent', found config daemon 'agent'/);
  const two = errorsOf("config agent\nconfig agent\n");
  assert.match(two[0]!.message, /expected one section of type 'agent', found 2: @agent\[0\] at line 1, @agent\[1\] at line 2/);
});

test('an anonymous section of a known type is used, with a warning', () => {
  const { config, warnings } = parseConfigText('config agent\n option log_level warn\n', 'a.conf');
  assert.is(config.agent.logLevel, 'warn');
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!.message, /anonymous 'config agent' is used as section 'agent'/);
});

test('option vs list: one option for a list field is a list of one; a list for an option is an error', () => {
  assert.equal(parseConfigText("config federation 'federation'\n option peer '/ip4/10.0.0.2/tcp/4001'\n", 'l').config.federation.peers, ['/ip4/10.0.0.2/tcp/4001']);
  const i = errorsOf("config agent 'agent'\n list fleet a\n list fleet b\n");
  assert.match(i[0]!.message, /expected a single 'option fleet', found a list of 2 values/);
});

test('an option set twice: the last wins, with a warning naming both lines', () => {
  const { config, warnings } = parseConfigText("config agent 'agent'\n option fleet a\n option fleet b\n", 't.conf');
  assert.is(config.agent.fleet, 'b');
  assert.match(warnings[0]!.message, /set more than once \(also at line 2\): the value at line 3 is used/);
});

test("libuci's ';' quirks reach the config warnings", () => {
  // As in libuci, 'a;' ends the line: log_level is not read.
  const { config, warnings } = parseConfigText("config agent 'agent'; option fleet a;option log_level warn\n", 'q.conf');
  assert.is(config.agent.fleet, 'a');
  assert.is(config.agent.logLevel, defaultConfig().agent.logLevel);
  assert.match(warnings[0]!.message, /libuci ignores the rest of this line/);
});

test('cross-field: telemetry needs a broker (at the broker line, else the section line)', () => {
  const missing = errorsOf("config telemetry 'telemetry'\n option enabled 1\n");
  assert.equal([missing[0]!.line, missing[0]!.section, missing[0]!.option], [1, 'telemetry', 'broker']);
  assert.match(missing[0]!.message, /required when telemetry is enabled: expected an MQTT URL/);
  const emptyBroker = errorsOf("config telemetry 'telemetry'\n option enabled 1\n option broker ''\n");
  assert.is(emptyBroker[0]!.line, 1);
  assert.equal(parseConfigText("config telemetry 'telemetry'\n option enabled 1\n option broker mqtt://10.0.0.1\n", 'ok').warnings, []);
});

test('cross-field: client certificate and key go together; TLS files with a plain broker warn', () => {
  const certOnly = errorsOf("config telemetry 'telemetry'\n option cert_file /etc/c.pem\n");
  assert.equal([certOnly[0]!.option, certOnly[0]!.line], ['key_file', 1]);
  const keyOnly = errorsOf("config telemetry 'telemetry'\n option key_file /etc/k.pem\n");
  assert.equal([keyOnly[0]!.option, keyOnly[0]!.line], ['cert_file', 1]);
  const { warnings } = parseConfigText("config telemetry 'telemetry'\n option broker mqtt://b\n option ca_file /etc/ca.pem\n", 'tls');
  assert.equal([warnings[0]!.option, warnings[0]!.line], ['broker', 2]);
  assert.match(warnings[0]!.message, /does not use TLS/);
});

test('cross-field: DP noise and secure aggregation need a clip norm; secure aggregation needs a sum rule', () => {
  const noise = errorsOf("config learning 'learning'\n option dp_noise_multiplier 1\n");
  assert.equal(noise.map((e) => e.option), ['dp_clip_norm']);
  assert.match(noise[0]!.message, /required when dp_noise_multiplier is set/);
  const secure = errorsOf("config learning 'learning'\n option secure_aggregation 1\n option rule krum\n");
  assert.equal(secure.map((e) => [e.option, e.line]), [['rule', 3], ['dp_clip_norm', 1]]);
  assert.equal(parseConfigText("config learning 'learning'\n option secure_aggregation 1\n option dp_clip_norm 2\n", 'ok').config.learning.secureAggregation, true);
  const big = errorsOf("config learning 'learning'\n option secure_aggregation 1\n option dp_clip_norm 32\n");
  assert.equal(big.map((e) => [e.option, e.line]), [['dp_clip_norm', 3]]);
  assert.match(big[0]!.message, /below 32 when secure_aggregation is on/);
  assert.is(parseConfigText("config learning 'learning'\n option dp_clip_norm 50\n", 'dp').config.learning.dpClipNorm, 50);
  const { warnings } = parseConfigText("config learning 'learning'\n option round_interval 60\n option round_timeout 60\n", 'rt');
  assert.equal(warnings.map((w) => [w.option, w.line]), [['round_timeout', 3]]);
});

test('cross-field warnings: learning without federation, mean with byzantine_f', () => {
  const { warnings } = parseConfigText("config learning 'learning'\n option enabled 1\n option rule mean\n", 'fl');
  assert.equal(warnings.map((w) => w.option), ['enabled', 'rule']);
});

test('applyOption: a valid change returns a changed copy; the input stays as it was', () => {
  const before = defaultConfig();
  const r = applyOption(before, 'agent.log_level', 'debug');
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.config.agent.logLevel, 'debug');
  assert.is(before.agent.logLevel, 'info');
  assert.equal([r.section, r.option, r.key, r.previous, r.value], ['agent', 'log_level', 'logLevel', 'info', 'debug']);
  const pkg = applyOption(before, 'x0tta6bl4.healing.interval', '2.5');
  assert.ok(pkg.ok && pkg.config.healing.intervalS === 2.5);
  const list = applyOption(before, 'federation.peer', ['/ip4/10.0.0.2/tcp/4001', '/ip4/10.0.0.3/tcp/4001']);
  assert.ok(list.ok && list.config.federation.peers.length === 2);
  assert.equal(before.federation.peers, []);
});

test('applyOption: an invalid change is refused whole, with a typed issue', () => {
  const before = defaultConfig();
  const snapshot = structuredClone(before);
  const refuse = (path: string, value: string | string[], message: RegExp) => {
    const r = applyOption(before, path, value, 'mqtt');
    assert.ok(!r.ok, path);
    if (r.ok) return;
    assert.is(r.issues[0]!.file, 'mqtt');
    assert.is(r.issues[0]!.line, null);
    assert.match(r.issues[0]!.message, message, `${path}: ${r.issues[0]!.message}`);
  };
  refuse('agent.log_level', 'loud', /expected one of debug, info, warn, error, found 'loud'/);
  refuse('healing.interval', '0', /from 0.1 to 60/);
  refuse('agent', 'x', /expected an option path 'section.option'/);
  refuse('agent.log_level.x', 'x', /option path/);
  refuse('nosuch.enabled', '1', /expected a section: one of agent, status/);
  refuse('agent.loglevel', '1', /expected an option of section 'agent': one of enabled, node_name/);
  refuse('federation.peer', ['/ip4/10.0.0.2/tcp/4001', 'bad'], /item 2: expected a multiaddr/);
  refuse('agent.fleet', ['a', 'b'], /expected a single 'option fleet'/);
  refuse('telemetry.enabled', '1', /required when telemetry is enabled/);
  refuse('telemetry.password', 'x\ny', /a value of 3 characters/);
  // Shapes that only arrive from untyped input (MQTT JSON): refused, not thrown.
  refuse(42 as unknown as string, '1', /option path.*found number/);
  refuse('agent.mesh_interface', 7 as unknown as string, /expected a string value.*found number/);
  refuse('federation.peer', [1] as unknown as string[], /non-string item/);
  assert.equal(before, snapshot);
});

test('applyOption: a cross-field change works in the right order', () => {
  const a = applyOption(defaultConfig(), 'telemetry.broker', 'wss://fleet.example/mqtt');
  assert.ok(a.ok);
  if (!a.ok) return;
  const b = applyOption(a.config, 'telemetry.enabled', 'yes');
  assert.ok(b.ok && b.config.telemetry.enabled === true);
});

test('serializeAgentConfig writes a file that reads back to the same config', () => {
  const c = defaultConfig();
  c.agent.nodeName = 'n1';
  c.agent.logLevel = 'warn';
  c.healing.intervalS = 0.5;
  c.telemetry.enabled = true;
  c.telemetry.broker = 'mqtt://10.0.0.1:1883';
  c.telemetry.username = 'agent';
  c.telemetry.password = "it's \"quoted\" #;\\";
  c.federation.peers = ['/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWxyz', '/dns4/x.example/tcp/4001'];
  c.simulator.seed = 4294967295;
  const text = serializeAgentConfig(c);
  assert.match(text, /^\nconfig agent 'agent'\n\toption enabled '1'\n\toption node_name 'n1'\n/);
  const back = parseConfigText(text, 'written');
  assert.equal(back.config, c);
  assert.equal(back.warnings, []);
  assert.equal(parseConfigText(serializeAgentConfig(defaultConfig()), 'd').config, defaultConfig());
});

test.run();
