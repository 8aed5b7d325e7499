// The wifi substrate of bench:heal (`--substrate wifi`): boots the QEMU harness (scripts/vm/)
// and runs bench/heal/wifi-guest.ts in it, a step with no veth mesh (the guest builds its own on
// mac80211_hwsim radios through the test bed's medium). Rows and summary are kernel.ts's, from
// the same guest JSON shape: wifi/fade (ping seconds lost), wifi/near-link and wifi/far-link
// (longest gap), each with agent, batman and batman_tuned.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInVm, VmRunError, type VmRun } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import { kernelRows, type GuestJson } from './kernel.ts';

const ALLOWED: Record<string, readonly string[]> = {
  X0_HEAL_SCENARIOS: ['fade', 'near-link', 'far-link'],
  X0_HEAL_VARIANTS: ['batman', 'batman_tuned', 'agent'],
  X0_HEAL_HEALTHY_VARIANTS: ['batman', 'batman_tuned', 'agent'],
};

export async function runWifiBench() {
  for (const [k, allowed] of Object.entries(ALLOWED)) {
    const bad = (process.env[k] ?? '').split(',').map((x) => x.trim()).filter((x) => x && !allowed.includes(x));
    if (bad.length) throw new Error(`${k}: unknown ${bad.join(', ')} (allowed on wifi: ${allowed.join(', ')})`);
  }
  for (const k of ['X0_HEAL_REPEATS', 'X0_HEAL_HEALTHY_S', 'X0_HEAL_VM_MINUTES']) {
    if (process.env[k] !== undefined && !(Number(process.env[k]) >= 0)) throw new Error(`${k}=${process.env[k]}: not a number ≥ 0`);
  }
  findVmHost(); // throws VmUnavailableError with the reason
  const healthyS = process.env.X0_HEAL_HEALTHY_S ?? '0';
  const env: Record<string, string> = { X0_HEAL_REPEATS: process.env.X0_HEAL_REPEATS ?? '2', X0_HEAL_HEALTHY_S: healthyS };
  for (const k of Object.keys(ALLOWED)) if (process.env[k]) env[k] = process.env[k]!;
  const budgetMs = Number(process.env.X0_HEAL_VM_MINUTES ?? 40) * 60_000;
  type Json = GuestJson & { radio?: Record<string, unknown> };
  let json: Json | undefined;
  let boot: VmRun['boot'];
  let vmError: string | null = null;
  try {
    const run = await runInVm(
      [{ name: 'heal-wifi', scripts: [{ path: 'bench/heal/wifi-guest.ts', timeoutMs: budgetMs - 120_000, env }] }],
      // Six Node processes besides the runner (the bench, the medium, four agents): more room than the default 1 GiB.
      { timeoutMs: budgetMs, memoryMb: 1536, onConsole: (l) => process.stderr.write(`${l}\n`) },
    );
    boot = run.boot;
    const step = run.results.steps[0]!;
    const script = step.scripts[0];
    process.stderr.write(`--- guest output (tail) ---\n${script?.output.slice(-8000) ?? ''}\n`);
    json = script?.json as Json | undefined;
    if (!json) throw new Error(`wifi guest bench produced no result: ${step.error ?? script?.output.slice(-2000) ?? 'no script ran'}`);
  } catch (e) {
    // The VM died under the runner (a kernel lockup panics it, wifi-guest.ts): the guest wrote its
    // results after every run to the shared folder, so the runs that finished are still there.
    if (!(e instanceof VmRunError)) throw e;
    const out = join(e.boot.resultsDir, 'heal-wifi.0.out.json');
    if (!existsSync(out)) throw e;
    json = JSON.parse(readFileSync(out, 'utf8')) as Json;
    boot = e.boot;
    vmError = e.message.split('\n')[0]!;
    process.stderr.write(`wifi: ${vmError}; using the ${json.runs.length} runs the guest finished\n`);
  }
  const { rows, summary } = kernelRows(json, healthyS, boot.bootSeconds);
  const { flaps: _flaps, ...rest } = summary;
  return {
    rows,
    summary: {
      ...rest,
      substrate: 'wifi',
      measure: 'mac80211_hwsim radios (802.11s mesh point NOHT, 2412 MHz, forwarding off, bat0 BATMAN_IV on top) through the test bed\'s medium, the diamond n1–n2–n4 / n1–n3–n4 (n1–n4, n2–n3 out of range; n2 with a higher mesh hop penalty, so traffic takes n3). fade (near link): loss per transmission attempt 0 → 1 and signal -55 → -95 dBm linearly over 20 s both ways, then dead: ping seconds lost; near-link (n1–next hop) and far-link (next hop–n4): loss 1 at once, longest gap in a 10/s ping n1→n4. OGM airtime: received OGM frames (nft ingress on the radios, packet type 0x00) per node per second; echo_fps_*: the link echo\'s frames the same way. Healthy: every in-range link at 10 % loss, -70 dBm',
      // The medium's cost per frame (ping RTT on the radio hop n1–n2 with and without it), the link states, n2's penalty, the warm-up TQs.
      radio: json.radio ?? null,
      // Why the VM ended early (then complete is false), or null.
      vmError,
    },
  };
}
