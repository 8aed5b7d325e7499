// The fleet CRL on this router's flash (federation.crl_file): a CRL the operator dropped there
// is offered to the fleet at start and on every refresh, and the fleet's newest CRL is kept
// there, so revocations survive a restart of the whole fleet (and the router that got the
// operator's copy being away).
import { readRegularFile } from '../flash/safe-read.ts';
import { ForeignFileError } from '../flash/write-atomic.ts';
import type { FederationComponents } from './components.ts';
import { CrlError, MAX_CRL_BYTES, verifyCrl } from './crl.ts';
import { keepFile } from './keep-file.ts';

/** A CRL file: the DER limit, as PEM (base64 and line breaks). */
const MAX_CRL_FILE = Math.ceil((MAX_CRL_BYTES * 4) / 3) + 64 * 1024;

export class CrlFile {
  constructor(
    private readonly components: FederationComponents,
    private readonly init: { gossip(entries: Uint8Array[]): void },
  ) {}

  private get path(): string {
    return this.components.settings.crlFile;
  }

  /** Offers the file's CRL to the fleet state; a newer one spreads. */
  load(): void {
    const { log, state } = this.components;
    let bytes: Buffer | null;
    try {
      // No symlink: the agent also writes this file (keep).
      bytes = readRegularFile(this.path, { maxBytes: MAX_CRL_FILE, noFollow: true });
    } catch (e) {
      log.warn(`CRL ignored: ${(e as Error).message}`);
      return;
    }
    if (bytes === null) return;
    try {
      const e = state.offerCrl(bytes);
      if (e) this.init.gossip([e.bytes]);
    } catch (err) {
      log.warn(`CRL ${this.path} ignored: ${(err as Error).message}`);
    }
  }

  /** Writes the fleet's newest CRL to the file unless it holds one as new (or is not ours). */
  keep(): void {
    const { ca, log, state } = this.components;
    const crl = state.crl();
    if (!crl) return;
    const isOurCrl = (b: Buffer): boolean => {
      try {
        verifyCrl(ca, b);
        return true;
      } catch {
        return false;
      }
    };
    try {
      const bytes = readRegularFile(this.path, { maxBytes: MAX_CRL_FILE, noFollow: true });
      if (bytes !== null && this.onDiskNumber(bytes) >= crl.number) return; // as new or newer (and maybe PEM): leave it
      if (keepFile(this.path, crl.der, { owns: isOurCrl, maxBytes: MAX_CRL_FILE, what: 'CRL' })) log.info(`CRL ${crl.number} kept in ${this.path}`);
    } catch (e) {
      log.warn(`cannot keep the fleet CRL in ${this.path}: ${(e as Error).message}`);
    }
  }

  private onDiskNumber(bytes: Buffer): bigint {
    try {
      return verifyCrl(this.components.ca, bytes).number;
    } catch (e) {
      // Not a CRL of this fleet (crl_file may name any file): never replaced.
      if (e instanceof CrlError) throw new ForeignFileError(`${this.path}: exists and is not a CRL of this fleet; left untouched`);
      throw e;
    }
  }
}
