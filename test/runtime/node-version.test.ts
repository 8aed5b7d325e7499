// The start-up Node version check (src/cli/node-version.ts): the comparator and the one line.
// A real too-old Node cannot run here, so the check is tested as a function; that Node 18.20.4
// passes it for real is shown by test/runtime/node18.test.ts running the bundle under it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MIN_NODE, nodeVersionProblem, versionAtLeast } from '../../src/cli/node-version.ts';

test('versionAtLeast compares major, minor, patch as numbers', () => {
  assert.ok(versionAtLeast('18.20.4', '18.20.0'));
  assert.ok(versionAtLeast('18.20.0', '18.20.0'));
  assert.ok(versionAtLeast('v20.1.0', '18.20.0'));
  assert.ok(versionAtLeast('18.100.0', '18.20.0'));
  assert.not.ok(versionAtLeast('18.19.1', '18.20.0'));
  assert.not.ok(versionAtLeast('16.20.2', '18.20.0'));
  assert.not.ok(versionAtLeast('9.99.99', '18.20.0'));
  assert.not.ok(versionAtLeast('banana', '18.20.0'));
});

test('Node 18.20.4 (OpenWrt 23.05, Debian bookworm) and this Node pass', () => {
  assert.is(MIN_NODE, '18.20.0');
  assert.is(nodeVersionProblem('18.20.4'), null);
  assert.is(nodeVersionProblem(process.versions.node), null);
});

test('an older Node gets one line naming both versions', () => {
  const line = nodeVersionProblem('18.19.1');
  assert.is(line, 'x0tta6bl4 needs Node >= 18.20; this is Node 18.19.1: install a newer node package');
  assert.not.match(line!, /\n/);
  assert.match(nodeVersionProblem('16.0.0\u001b[2J')!, /this is Node 16\.0\.0\?\?2J:/);
});

test.run();
