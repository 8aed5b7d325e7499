// Commit-confirm's verdict: connectivity before an action against after its verify window.
// The figures are those seen in the VM and the simulator (see each case).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judge } from '../../src/mapek/execute.ts';
import type { Connectivity } from '../../src/mapek/findings.ts';

const c = (reachable: number, quality: number, gateway: Connectivity['gateway'] = 'n/a'): Connectivity =>
  ({ reachable, recentReachable: reachable, liveNeighbours: 2, gateway, quality });

test('routes regained over a longer detour: helped, although their mean score is lower', () => {
  // The simulator's dead link: faster OGMs while the late link's routes were already not counted.
  assert.is(judge(c(2, 0.973), c(4, 0.835), false), 'helped');
});

test('one more originator but every route far worse: worse (steering onto the dead path, VM)', () => {
  assert.is(judge(c(2, 0.331), c(3, 0.021), false), 'worse');
});

test('the same originators over worse routes: worse; over slightly better ones: helped', () => {
  assert.is(judge(c(4, 0.9), c(4, 0.75), false), 'worse');
  assert.is(judge(c(4, 0.8), c(4, 0.87), false), 'helped');
});

test('a fifth of the originators lost, or the gateway: worse; nothing changed: no effect', () => {
  assert.is(judge(c(10, 0.8), c(7, 0.8), false), 'worse');
  assert.is(judge(c(10, 0.8), c(9, 0.8), false), 'no-effect');
  assert.is(judge(c(5, 0.8, 'ok'), c(5, 0.8, 'lost'), false), 'worse');
  assert.is(judge(c(5, 0.8), c(5, 0.8), true), 'helped', 'the finding cleared');
});

test.run();
