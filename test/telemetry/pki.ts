// A throwaway PKI for tests, made with the openssl CLI (a real, independent implementation: the
// certificates our node:crypto code checks are not produced by that same code).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KeyType = 'ec' | 'ed25519' | 'rsa';

export interface Issued {
  name: string;
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface CertSpec {
  /** Omit for a self-signed certificate. */
  issuer?: Issued;
  keyType?: KeyType;
  days?: number;
  ca?: boolean;
  /** openssl keyUsage value, e.g. "critical,digitalSignature"; '' leaves the extension out. */
  keyUsage?: string;
  extKeyUsage?: string;
  /** openssl subjectAltName value, e.g. "URI:spiffe://td/node/abc". */
  san?: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestPki {
  private serial = 1;
  constructor(readonly dir: string) {}

  private key(name: string, type: KeyType): string {
    const file = join(this.dir, `${name}.key`);
    const alg =
      type === 'ed25519'
        ? ['-algorithm', 'ed25519']
        : type === 'rsa'
          ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
          : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    openssl(['genpkey', ...alg, '-out', file], this.dir);
    return file;
  }

  issue(name: string, spec: CertSpec = {}): Issued {
    const keyFile = this.key(name, spec.keyType ?? 'ec');
    const csr = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.pem`);
    const ext = join(this.dir, `${name}.ext`);
    const ca = spec.ca ?? false;
    const lines = ['[v3]', `basicConstraints = critical,CA:${ca ? 'TRUE' : 'FALSE'}`, 'subjectKeyIdentifier = hash'];
    if (spec.issuer) lines.push('authorityKeyIdentifier = keyid');
    const ku = spec.keyUsage ?? (ca ? 'critical,keyCertSign,cRLSign,digitalSignature' : 'critical,digitalSignature');
    if (ku) lines.push(`keyUsage = ${ku}`);
    if (spec.extKeyUsage) lines.push(`extendedKeyUsage = ${spec.extKeyUsage}`);
    if (spec.san) lines.push(`subjectAltName = ${spec.san}`);
    writeFileSync(ext, lines.join('\n') + '\n');
    openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csr], this.dir);
    const sign = spec.issuer ? ['-CA', spec.issuer.certFile, '-CAkey', spec.issuer.keyFile] : ['-signkey', keyFile];
    openssl(
      ['x509', '-req', '-in', csr, ...sign, '-set_serial', String(this.serial++), '-days', String(spec.days ?? 30), '-extfile', ext, '-extensions', 'v3', '-out', certFile],
      this.dir,
    );
    return { name, certFile, keyFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
  }
}
