// agent.state_dir holds the identity key, fleet files, the journal and fleet settings. Whoever
// can write there can plant a symlink where the agent writes, or swap its inputs; so the agent
// starts only with a directory that is its own (or root's) and that nobody else may write.
// A directory the agent makes itself gets 0700 whatever the umask; an existing one is never
// changed behind the operator's back: it is refused with the command that fixes it.
import { chmodSync, mkdirSync, statfsSync, statSync, type Stats } from 'node:fs';
import { describeKind } from '../flash/safe-read.ts';

export class StateDirError extends Error {
  override readonly name = 'StateDirError';
}

// Kernel pseudo file systems: nothing kept there survives, and writes there reach the kernel.
const PSEUDO_FS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x1cd1: 'devpts', 0x64626720: 'debugfs' };

const euid = (): number => process.geteuid?.() ?? 0;

/** Checks (or creates, 0700) the state directory; throws StateDirError with one line naming agent.state_dir. */
export function ensureStateDir(dir: string): { created: boolean } {
  const refuse = (why: string): never => {
    throw new StateDirError(`agent.state_dir ${dir}: ${why}`);
  };
  let created = false;
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') refuse(code === 'ENOTDIR' ? 'a parent of the path is not a directory' : code === 'EACCES' ? 'permission denied' : `${code ?? (e as Error).message}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    } catch (err) {
      refuse(`cannot create it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    created = true;
    st = statSync(dir);
  }
  if (!st.isDirectory()) refuse(`is ${describeKind(st)}, not a directory`);
  try {
    const fs = PSEUDO_FS[statfsSync(dir).type];
    if (fs) refuse(`is on ${fs}, not on storage the agent may keep files in`);
  } catch (e) {
    if (e instanceof StateDirError) throw e;
    // statfs unsupported: the owner and mode checks still hold
  }
  const me = euid();
  // Root's own directories are trusted as they are; any other owner could swap the contents.
  if (st.uid !== me && st.uid !== 0) refuse(`owned by uid ${st.uid}, not by the agent (uid ${me}) or root: chown ${me} ${dir}`);
  if (st.mode & 0o022)
    refuse(`writable by ${st.mode & 0o002 ? 'any user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): chmod go-w ${dir} (0700 or 0750)`);
  return { created };
}
