// Runs inside the VM (as root, from the checkout): for each step of /x0vm/job.json, loads
// batman-adv if asked, builds the step's mesh in fresh network namespaces, waits until it has
// converged, runs the step's scripts, and writes /x0vm/results.json after every step (so a
// timeout still leaves what finished). Scripts find the mesh in $X0VM_MESH (MeshInfoFile) and
// may write JSON to $X0VM_OUT.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScriptResult, StepResult, VmJob, VmRunResults, VmStep } from './job.ts';
import { describeMesh, meshCommands, type MeshInfoFile } from './topology.ts';

const SHARE = '/x0vm';
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const log = (s: string) => process.stderr.write(`x0vm-runner: [${uptime().toFixed(1)}s] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(argv: string[], stdin?: string): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: stdin ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; status?: number };
    throw new Error(`${argv.join(' ')} failed (exit ${err.status}): ${(err.stderr || err.stdout || '').trim()}`);
  }
}

function clearNamespaces(): void {
  if (existsSync('/run/netns')) run(['ip', '-all', 'netns', 'delete']);
}

/**
 * Every node has a best route (a '*' row) to every other node's originator address. batctl
 * itself can fail while the mesh is still coming up (exit 234, seen a few times in a row under
 * load): that is "not yet", and the last such error goes into the timeout's message.
 */
function converged(mesh: MeshInfoFile, lastError: { message?: string }): boolean {
  for (const node of mesh.nodes) {
    let out: string;
    try {
      out = run(['nsenter', `--net=/run/netns/${node.netns}`, 'batctl', 'meshif', 'bat0', 'originators', '-H']);
    } catch (e) {
      lastError.message = (e as Error).message;
      return false;
    }
    const best = new Set(out.split('\n').filter((l) => l.trimStart().startsWith('*')).map((l) => l.trim().split(/\s+/)[1]));
    for (const other of mesh.nodes) if (other !== node && !best.has(other.origAddress)) return false;
  }
  return true;
}

function tail(s: string, max = 65536): string {
  return s.length > max ? `[... ${s.length - max} bytes cut]\n${s.slice(-max)}` : s;
}

async function runScript(job: VmJob, step: VmStep, index: number, meshFile: string | undefined): Promise<ScriptResult> {
  const script = step.scripts[index]!;
  const out = join(SHARE, `${step.name}.${index}.out.json`);
  const started = Date.now();
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(script.env ?? {}), X0VM_OUT: out, X0VM_STEP: step.name, FORCE_COLOR: '0' };
  if (meshFile) env.X0VM_MESH = meshFile;
  if (job.bridge) env.X0TTA6BL4_NLBRIDGE = job.bridge;
  env.X0VM_REPO = job.repo;
  const argv = script.bundle ? ['--enable-source-maps', script.bundle] : ['--import', 'tsx', script.path];
  const child = spawn(process.execPath, [...argv, ...(script.args ?? [])], { cwd: job.repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, script.timeoutMs ?? 120_000);
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.on('error', (e) => {
      output += `\nspawn failed: ${e.message}`;
      resolve([null, null]);
    });
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  const r: ScriptResult = { path: script.path, exitCode, signal, timedOut, seconds: (Date.now() - started) / 1000, output: tail(output) };
  const total = /Total:\s+(\d+)/.exec(output);
  const passed = /Passed:\s+(\d+)/.exec(output);
  if (total && passed) r.tests = { total: Number(total[1]), passed: Number(passed[1]) };
  if (existsSync(out)) {
    try {
      r.json = JSON.parse(readFileSync(out, 'utf8'));
    } catch (e) {
      r.jsonError = (e as Error).message;
    }
  }
  return r;
}

async function runStep(job: VmJob, step: VmStep): Promise<StepResult> {
  const started = Date.now();
  const result: StepResult = { name: step.name, setupSeconds: 0, scripts: [] };
  let meshFile: string | undefined;
  try {
    clearNamespaces();
    // Without the module, the kernel would autoload it on the first batadv family lookup
    // (alias net-pf-16-proto-16-family-batadv): a "no module" step stands for a system that
    // has no batman-adv installed, so autoloading is switched off for its duration.
    writeFileSync('/proc/sys/kernel/modprobe', step.modprobe === false ? '/nonexistent-modprobe-off' : '/sbin/modprobe');
    if (step.modprobe !== false) run(['modprobe', 'batman-adv']);
    else if (existsSync('/sys/module/batman_adv')) throw new Error('modprobe: false, but batman-adv is already loaded (put such steps first)');
    log(`${step.name}: namespaces cleared, module ready after ${(Date.now() - started) / 1000}s`);
    if (step.topology) {
      const mesh = describeMesh(step.topology, step.mesh);
      result.topology = step.topology.name;
      result.algo = mesh.algo;
      // What `batctl routing_algo X` does, without its ~3 s under TCG: the algorithm for new bat interfaces.
      writeFileSync('/sys/module/batman_adv/parameters/routing_algo', mesh.algo);
      for (const c of meshCommands(mesh)) {
        const t0 = Date.now();
        run(c.argv, c.stdin);
        // Slow commands are worth seeing: setup time counts against the whole VM budget.
        if (Date.now() - t0 > 2000) log(`${step.name}: ${c.argv.join(' ')} took ${Date.now() - t0} ms`);
      }
      meshFile = join(SHARE, `${step.name}.mesh.json`);
      writeFileSync(meshFile, JSON.stringify(mesh, null, 2));
      result.setupSeconds = (Date.now() - started) / 1000;
      log(`${step.name}: ${step.topology.name} ${mesh.algo} built in ${result.setupSeconds}s`);
      if (step.waitConverged !== false) {
        const deadline = Date.now() + (step.convergeTimeoutMs ?? 90_000);
        const lastError: { message?: string } = {};
        while (!converged(mesh, lastError)) {
          if (Date.now() > deadline) throw new Error(`mesh ${step.topology.name} did not converge within ${step.convergeTimeoutMs ?? 90_000} ms${lastError.message ? ` (last batctl error: ${lastError.message})` : ''}`);
          await sleep(500);
        }
        result.convergedSeconds = (Date.now() - started) / 1000;
        log(`${step.name}: converged after ${result.convergedSeconds}s`);
      }
    }
  } catch (e) {
    result.error = (e as Error).message;
    log(`${step.name}: ${result.error}`);
    return result;
  }
  for (let i = 0; i < step.scripts.length; i++) {
    const r = await runScript(job, step, i, meshFile);
    log(`${step.name}: ${r.path} exit ${r.exitCode}${r.tests ? ` (${r.tests.passed}/${r.tests.total} passed)` : ''} in ${r.seconds.toFixed(1)}s`);
    result.scripts.push(r);
  }
  return result;
}

function write(results: VmRunResults): void {
  results.uptimeSeconds = uptime();
  writeFileSync(join(SHARE, 'results.json.tmp'), JSON.stringify(results, null, 2));
  renameSync(join(SHARE, 'results.json.tmp'), join(SHARE, 'results.json'));
}

async function main(): Promise<void> {
  const results: VmRunResults = { kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), steps: [], uptimeSeconds: 0 };
  let job: VmJob;
  try {
    job = JSON.parse(readFileSync(process.argv[2] ?? join(SHARE, 'job.json'), 'utf8')) as VmJob;
    if (!Array.isArray(job.steps)) throw new Error('job.steps is not a list');
  } catch (e) {
    results.error = `bad job: ${(e as Error).message}`;
    write(results);
    process.exitCode = 2;
    return;
  }
  mkdirSync(SHARE, { recursive: true });
  for (const step of job.steps) {
    results.steps.push(await runStep(job, step));
    if (!results.batmanVersion && existsSync('/sys/module/batman_adv/version')) results.batmanVersion = readFileSync('/sys/module/batman_adv/version', 'utf8').trim();
    write(results);
  }
  clearNamespaces();
  write(results);
}

await main();
