// The fleet's CRL as the command check reads it: the file the federation keeps up to date
// (federation.crl_file, default <state_dir>/fleet.crl), re-read when it changes. A missing file
// revokes nothing; an unreadable or forged one keeps the last good list (a file being replaced
// must not reinstate a revoked operator), and is said once in the log.
import { statSync, type Stats } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { isRevoked, MAX_CRL_BYTES, verifyCrl, type Crl } from '../federation/crl.ts';
import type { FleetCa } from '../federation/fleet-ca.ts';
import { readRegularFile } from '../flash/safe-read.ts';

export class CommandCrl {
  private crl: Crl | null = null;
  private seen = '';
  private warned = '';

  constructor(
    private readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

  revoked(trust: FleetCa, cert: X509Certificate): boolean {
    this.refresh(trust);
    return this.crl !== null && isRevoked(this.crl, cert);
  }

  private refresh(trust: FleetCa): void {
    let st: Stats;
    try {
      st = statSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.problem(`cannot read the fleet CRL ${this.path}: ${(e as Error).message}`);
      return;
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === this.seen) return;
    this.seen = stamp;
    try {
      // The safe reader: a FIFO or a device there (even one swapped in after the stat above)
      // must not block or flood the agent.
      const bytes = readRegularFile(this.path, { maxBytes: MAX_CRL_BYTES });
      if (!bytes) return;
      this.crl = verifyCrl(trust, bytes);
      this.warned = '';
    } catch (e) {
      this.problem(`the fleet CRL ${this.path} is not usable: ${(e as Error).message}`);
    }
  }

  private problem(message: string): void {
    if (message === this.warned) return;
    this.warned = message;
    this.warn(`${message}${this.crl ? '; keeping the previous one' : ''}`);
  }
}
