import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgs, formatFlags } from '../../src/cli/parse-args.ts';
import { UsageError, type FlagSpec } from '../../src/cli/command.ts';

const specs: Record<string, FlagSpec> = {
  json: { type: 'boolean', describe: 'json' },
  config: { type: 'string', value: 'PATH', describe: 'config' },
  count: { type: 'number', describe: 'count' },
  nodes: { type: 'integer', value: 'N', describe: 'nodes' },
};

test('flags in every accepted form, positionals kept in order', () => {
  const p = parseArgs(['a', '--json', '--config', '/x', '--count=3', 'b', '--', '--json'], specs, 't');
  assert.equal(p.flags, { json: true, config: '/x', count: 3 });
  assert.equal(p.positionals, ['a', 'b', '--json']);
  assert.is(p.help, false);
});

test('--no-flag and --flag=false turn a boolean off', () => {
  assert.is(parseArgs(['--no-json'], specs, 't').flags.json, false);
  assert.is(parseArgs(['--json=false'], specs, 't').flags.json, false);
});

test('-h and --help anywhere ask for help', () => {
  assert.ok(parseArgs(['x', '-h'], specs, 't').help);
  assert.ok(parseArgs(['--help'], specs, 't').help);
});

const rejects = (argv: string[], fragment: string) => {
  try {
    parseArgs(argv, specs, 'status');
  } catch (e) {
    assert.instance(e, UsageError);
    assert.match((e as Error).message, fragment);
    return;
  }
  assert.unreachable(`accepted ${argv.join(' ')}`);
};

test('unknown flags, missing values and bad numbers are usage errors naming the flag', () => {
  rejects(['--bogus'], "unknown option --bogus for 'status'");
  rejects(['-x'], 'unknown option -x');
  rejects(['--config'], '--config needs a value (PATH)');
  rejects(['--config', '--json'], '--config needs a value');
  rejects(['--count', 'many'], "--count must be a number (got 'many')");
  rejects(['--count='], '--count must be a number');
  rejects(['--json=maybe'], '--json takes no value');
  rejects(['--no-config'], 'unknown option --no-config');
});

test('numbers are plain decimals: no hex, exponent, binary, Infinity or padding', () => {
  assert.is(parseArgs(['--count', '0.5'], specs, 't').flags.count, 0.5);
  assert.is(parseArgs(['--count', '-3'], specs, 't').flags.count, -3);
  assert.is(parseArgs(['--nodes=16'], specs, 't').flags.nodes, 16);
  for (const bad of ['0x10', '1e3', '0b1', '0o7', 'Infinity', ' 5', '5 ', '+5', '.5', '5.']) {
    rejects(['--count', bad], `--count must be a number (got '${bad}')`);
    rejects(['--nodes', bad], `--nodes must be a whole number (got '${bad}')`);
  }
  rejects(['--nodes', '6.0'], "--nodes must be a whole number (got '6.0')");
  rejects(['--nodes', '99999999999999999'], '--nodes must be a whole number');
});

test('a negative number is a value (a positional), not an unknown flag', () => {
  const p = parseArgs(['set', 'orig_interval', '-5'], specs, 't');
  assert.equal(p.positionals, ['set', 'orig_interval', '-5']);
  assert.equal(parseArgs(['-0.5', '-.5'], specs, 't').positionals, ['-0.5', '-.5']);
  rejects(['-x5'], 'unknown option -x5');
});

test('help text lists every flag with its placeholder', () => {
  const text = formatFlags(specs);
  assert.match(text, '--config PATH');
  assert.match(text, '--count NUMBER');
  assert.match(text, '-h, --help');
});

test.run();
