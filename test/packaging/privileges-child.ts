// Run by privileges.test.ts under setpriv (as another user, with chosen capabilities): reports
// what privileges.ts reads from this process and runs one rtnetlink change through the
// privileged runner. Prints one JSON line.
import { capNames, privilegedRunner, privilegesHealth, readPrivileges } from '../../src/agent/privileges.ts';
import { systemRunner } from '../../src/mapek/command-runner.ts';

const p = readPrivileges();
const run = privilegedRunner(systemRunner, p);
// In the fresh network namespace the test gives us, lo starts down: bringing it up needs CAP_NET_ADMIN.
const ip = await run(['ip', 'link', 'set', 'dev', 'lo', 'up']);
const reboot = await run(['reboot'], { timeoutMs: 2000 });
console.log(
  JSON.stringify({
    uid: p.uid,
    user: p.user,
    effective: capNames(p.caps.effective),
    ambient: capNames(p.caps.ambient),
    bounding: capNames(p.caps.bounding),
    noNewPrivs: p.noNewPrivs,
    health: privilegesHealth(p, { needsNetAdmin: true }),
    ip,
    reboot,
  }),
);
