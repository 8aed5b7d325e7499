// The fleet's CRL as the command check reads it: the file the federation keeps up to date
// (federation.crl_file, default <state_dir>/fleet.crl), re-read when it changes. A missing file
// revokes nothing; an unreadable or forged one keeps the last good list (a file being replaced
// must not reinstate a revoked operator), and is said once in the log.
import { readFileSync, statSync, type Stats } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { isRevoked, MAX_CRL_BYTES, verifyCrl, type Crl } from '../federation/crl.ts';
import type { FleetCa } from '../federation/fleet-ca.ts';

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
    // Stat before open: a FIFO or a device there must not block or flood the agent.
    if (!st.isFile()) return this.problem(`the fleet CRL ${this.path} is not a regular file`);
    if (st.size > MAX_CRL_BYTES) return this.problem(`the fleet CRL ${this.path} is ${st.size} bytes, more than ${MAX_CRL_BYTES}`);
    try {
      this.crl = verifyCrl(trust, readFileSync(this.path));
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
