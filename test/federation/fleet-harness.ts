// A fleet on 127.0.0.1 for tests and the benchmark: a CA made with `pki` code, one state dir per
// node (identity key, certificate, CA), federations started in this process.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '../../src/federation/identity.ts';
import { signerFor, publicKeyOfPeerId } from '../../src/federation/ed25519.ts';
import { createCrl, createFleetCa, issueNodeCertificate } from '../../src/federation/pki-issue.ts';
import { federationSettings, type FederationSettings } from '../../src/federation/settings.ts';
import { startFederationWith } from '../../src/federation/federation.ts';
import type { Federation } from '../../src/federation/types.ts';
import { defaultConfig } from '../../src/config/index.ts';

export const TRUST_DOMAIN = 'test.x0tta6bl4';
export const FLEET = 'test';

export class TestFleet {
  readonly root: string;
  readonly ca: { cert: X509Certificate; key: KeyObject; pem: string };
  private crlNumber = 1n;
  private readonly revoked: { serial: bigint; at: number }[] = [];
  constructor(name = 'fleet') {
    this.root = mkdtempSync(join(tmpdir(), `x0-fed-${name}-`));
    const c = createFleetCa(`${name} CA`, 30);
    this.ca = { cert: new X509Certificate(c.certPem), key: createPrivateKey(c.keyPem), pem: c.certPem };
  }

  /** A state dir with identity and certificate; `cert` tweaks the certificate for attack cases. */
  async prepare(
    name: string,
    opts: { issuer?: TestFleet; days?: number; now?: number; spiffePeer?: string; trustDomain?: string; noCert?: boolean } = {},
  ): Promise<{ settings: FederationSettings; peerId: string; serial: bigint }> {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    const cfg = defaultConfig();
    cfg.agent.stateDir = dir;
    cfg.agent.fleet = FLEET;
    const settings: FederationSettings = {
      ...federationSettings(cfg, 'test', name),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      trustDomain: TRUST_DOMAIN,
      mdns: false,
      // generous: CI machines may be loaded (handshakes are CPU-bound)
      admissionTimeoutMs: 15_000,
      // every test node shares 127.0.0.1
      inboundPerHostPerSecond: 1000,
    };
    const { key } = await loadOrCreateIdentity(settings.keyFile);
    const peerId = signerFor(key).peerId;
    writeFileSync(settings.caFile, this.ca.pem);
    const issuer = opts.issuer ?? this;
    const named = opts.spiffePeer ?? peerId;
    const cert = issueNodeCertificate({
      ca: issuer.ca.cert,
      caKey: issuer.ca.key,
      nodeKey: publicKeyOfPeerId(named)!,
      spiffeId: `spiffe://${opts.trustDomain ?? TRUST_DOMAIN}/node/${named}`,
      commonName: name,
      days: opts.days ?? 30,
      now: opts.now,
    });
    if (!opts.noCert) writeFileSync(settings.certFile, cert.pem);
    return { settings, peerId, serial: cert.serial };
  }

  async start(name: string, extra: Partial<FederationSettings> = {}): Promise<Federation> {
    const p = await this.prepare(name);
    return startFederationWith({ ...p.settings, ...extra });
  }

  revoke(serial: bigint): string {
    this.revoked.push({ serial, at: Date.now() });
    return createCrl({ ca: this.ca.cert, caKey: this.ca.key, number: ++this.crlNumber, revoked: this.revoked, days: 7 });
  }
}

/** Polls `cond` (socket events are asynchronous); fails with `what` after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
