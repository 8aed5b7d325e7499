// What the loop shows: findings, plan, actions and rollbacks in /status (over the real status
// socket) and in /metrics, and as events.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fetchStatus } from '../../src/status/client.ts';
import type { HealingStatus } from '../../src/mapek/healer.ts';
import { renderActions } from '../../src/mapek/render-actions.ts';
import { simAgent } from './sim-agent.ts';

test('/status carries findings with evidence, the plan and the journal; /metrics counts them', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'x0-heal-status-')), 's.sock');
  const s = await simAgent({ socket });
  try {
    await s.run(2000);
    s.world.killLink(0, 1);
    s.world.stuckInterface(0, 'mesh1');
    await s.run(6000);
    const st = await fetchStatus<{ healing: HealingStatus }>(socket, '/status');
    const h = st.healing;
    assert.is(h.dryRun, false);
    const stuck = h.findings.find((f) => f.kind === 'interface-stuck')!;
    assert.ok(stuck, JSON.stringify(h.findings));
    assert.equal(stuck.subject, { ifname: 'mesh1' });
    assert.ok(typeof stuck.evidence.frozenS === 'number');
    assert.ok(h.plan.length > 0 && h.plan.every((p) => ['go', 'blocked', 'in-flight', 'exhausted'].includes(p.status)));
    assert.ok(h.journal.some((e) => e.action === 'restart-interface' && e.state === 'verifying'), JSON.stringify(h.journal.map((e) => [e.action, e.state, e.outcome])));
    assert.ok(h.connectivity && h.connectivity.liveNeighbours === 0, 'both interfaces out: nobody heard');
    const text = s.agent.metrics(); // what the server's /metrics serves
    assert.match(text, /x0tta6bl4_findings\{node="n1",kind="interface-stuck"\} 1/);
    assert.match(text, /x0tta6bl4_journal_entries\{node="n1",state="verifying"\} [1-9]/);
    assert.match(text, /x0tta6bl4_route_quality\{node="n1"\} [\d.]+\n/);
    // The link echo's series, at zero here (the simulator has no link echo).
    for (const n of ['deaf_told', 'deaf_heard', 'one_way_dead']) assert.match(text, new RegExp(`^x0tta6bl4_link_echo_${n}_total\\{node="n1"\\} 0$`, 'm'));
    const actions = s.events().filter((e) => e.kind === 'action');
    assert.ok(actions.some((e) => /^restart interface mesh0 \(#\d+, rung 4\): link to n2\/mesh0 on mesh0 dead/.test(e.message)), JSON.stringify(actions));
    const waiting = h.plan.find((p) => p.action === 'restart-interface' && p.target.ifname === 'mesh1')!;
    assert.is(waiting.status, 'blocked');
    assert.is(waiting.note, 'another restart-interface is being verified');
  } finally {
    await s.agent.stop();
  }
});

test('the actions listing (for `x0tta6bl4 actions`) names what, why and how it ended', async () => {
  const s = await simAgent();
  assert.is(renderActions(null), 'self-healing is off (healing.enabled)\n');
  await s.run(2000);
  assert.match(renderActions(s.agent.status().healing), 'no actions yet');
  s.world.killLink(0, 1);
  await s.run(15_000);
  const text = renderActions(s.agent.status().healing);
  assert.match(text, /^#\d+ \S+ restart-interface mesh0 \[kept\]\n    why: link to n2\/mesh0 on mesh0 dead: silent for [\d.]+ s(, and the \d+ packets\/s it received stopped [\d.]+ s ago)?\n    outcome: helped: /m);
  await s.agent.stop();
});

test('without the WASM core the loop still runs, on plain TQ', async () => {
  const s = await simAgent();
  await s.run(2000);
  s.world.killLink(0, 1);
  await s.run(5000);
  assert.ok(s.journal().some((e) => e.action === 'restart-interface'));
  assert.ok(s.agent.healer!.connectivity!.quality > 0);
  await s.agent.stop();
});

test.run();
