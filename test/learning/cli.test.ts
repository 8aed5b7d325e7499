// `x0tta6bl4 learning` against a real status server on a Unix socket: text, --json, learning
// off, agent unreachable, stray arguments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStatusServer } from '../../src/status/server.ts';
import type { StatusReport } from '../../src/status/types.ts';
import { learningCommand } from '../../src/cli/commands/learning.ts';
import { UsageError, UserError } from '../../src/cli/command.ts';
import type { LearningStatus } from '../../src/learning/status.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-learning-cli-'));
const socket = join(dir, 's.sock');
const block: LearningStatus = {
  schema: 1, round: 12, modelVersion: 11, rule: 'centered-clipping', ruleUsed: 'centered-clipping+bucketing(2)', f: 1, bucketing: 2,
  workerMomentum: 0.9, horizonS: 30, roundTimeoutS: 30, peersAdmitted: 5, peersHeard: 4,
  lastRound: { round: 11, heard: 5, applied: true, skipped: null, closedBy: 'quorum', localLoss: 0.52 },
  rejected: { total: 2, byReason: { 'non-finite': 1, duplicate: 1 }, recent: [{ round: 10, peer: 'n7', reason: 'non-finite' }] },
  quality: { heldOutAuc: 0.7712, heldOutRows: 800, heldOutPositives: 90 },
  data: { trainPositive: 300, trainNegative: 2000, seenPositive: 400, seenNegative: 9000 },
  privacy: { dp: { clipNorm: 0.5, noiseMultiplier: 1.25, cohort: 1, sigmaPerSender: 0.625 }, secureAggregation: 'off' }, catchUps: 0,
};
let learning: LearningStatus | null = block;
const server = await startStatusServer({
  socketPath: socket,
  source: {
    health: () => ({ schema: 1, node: 'n1', overall: 'ok', components: [] }),
    status: () => ({ learning } as unknown as StatusReport),
    metrics: () => '',
  },
});

async function run(...args: string[]) {
  const out: string[] = [];
  const flags: Record<string, string | boolean> = { socket };
  const positionals: string[] = [];
  for (const a of args) if (a === '--json') flags.json = true; else positionals.push(a);
  const code = await learningCommand.run({ flags, positionals, io: { out: (t) => out.push(t), err: () => undefined }, stopSignal: new Promise(() => {}) });
  return { code, out: out.join('\n') };
}

test('text view names round, rule, peers, AUC and rejections', async () => {
  const r = await run();
  assert.is(r.code, 0);
  assert.match(r.out, /round\s+12 \(model version 11\)/);
  assert.match(r.out, /centered-clipping, f=1, bucketing s=2, worker momentum 0.9/);
  assert.match(r.out, /4 heard in the last round, 5 admitted/);
  assert.match(r.out, /held-out AUC\s+0.7712 on 800 rows/);
  assert.match(r.out, /rejected\s+2 \(non-finite 1, duplicate 1\)/);
  assert.match(r.out, /round 10 from n7: non-finite/);
  assert.match(r.out, /horizon\s+30 s, round timeout 30 s/);
  assert.match(r.out, /DP clip 0.5, noise multiplier 1.25, secure aggregation off/);
});

test('--json prints the block as the agent sent it', async () => {
  const r = await run('--json');
  assert.is(r.code, 0);
  assert.equal(JSON.parse(r.out), block);
});

test('learning off: says so, exit 4', async () => {
  learning = null;
  const r = await run();
  assert.is(r.code, 4);
  assert.match(r.out, /learning is off/);
  learning = block;
});

test('no agent: a UserError naming the socket; arguments: a UsageError', async () => {
  const flags = { socket: join(dir, 'none.sock') };
  await learningCommand.run({ flags, positionals: [], io: { out: () => undefined, err: () => undefined }, stopSignal: new Promise(() => {}) })
    .then(() => assert.unreachable('should fail'), (e) => { assert.instance(e, UserError); assert.match(e.message, /none\.sock/); });
  await run('extra').then(() => assert.unreachable('should fail'), (e) => assert.instance(e, UsageError));
});

test.after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
