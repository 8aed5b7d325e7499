// `x0tta6bl4 pki`: the operator's fleet CA (init), node certificates (issue), revocation
// (revoke, writes a CRL) — run on the operator's machine; and `pki id`, run on a router, which
// prints the peer id the operator needs for `issue`.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, UserError, type CliCommand, type FlagValues } from '../command.ts';
import { loadConfigForCli } from '../config-path.ts';
import { createCrl, createFleetCa, issueNodeCertificate } from '../../federation/pki-issue.ts';
import { publicKeyOfPeerId, signerFor } from '../../federation/ed25519.ts';
import { defaultTrustDomain, federationSettings } from '../../federation/settings.ts';
import { loadOrCreateIdentity, IdentityError } from '../../federation/identity.ts';
import { VERSION } from '../../version.ts';

const USAGE = `usage: x0tta6bl4 pki init [--dir DIR] [--name CN] [--fleet NAME] [--trust-domain TD] [--days N]
       x0tta6bl4 pki issue --peer-id ID [--dir DIR] [--name CN] [--days N] [--out FILE]
       x0tta6bl4 pki revoke (--serial HEX | --cert FILE) [--dir DIR] [--days N]
       x0tta6bl4 pki id [--config PATH]

The fleet PKI. init, issue and revoke run on the operator's machine, in DIR (default ./fleet-pki):
  init    creates the fleet CA (Ed25519): fleet-ca.pem (copy to every router as
          <state_dir>/fleet-ca.pem), fleet-ca.key (keep it off the routers), an empty fleet.crl
  issue   a node certificate for a router's peer id (from \`x0tta6bl4 pki id\` on that router):
          its key is the router's libp2p key, its URI SAN spiffe://<trust-domain>/node/<peer-id>.
          Copy it to the router as <state_dir>/node-cert.pem
  revoke  adds a certificate to the revocation list and rewrites fleet.crl; copy it to any one
          router as <state_dir>/fleet.crl and the fleet spreads it within one gossip round
  id      (on a router) prints this node's peer id, creating its identity on first use`;

const SERIAL = /^[0-9A-Fa-f:]{1,64}$/;

interface PkiMeta {
  trustDomain: string;
  crlNumber: string;
  revoked: { serial: string; at: number }[];
}

export const pkiCommand: CliCommand = {
  name: 'pki',
  summary: 'fleet CA, node certificates and revocation (operator) / this node\'s peer id',
  usage: USAGE,
  flags: {
    dir: { type: 'string', value: 'DIR', describe: 'the fleet PKI directory (default ./fleet-pki)' },
    name: { type: 'string', value: 'CN', describe: 'common name of the CA or node certificate' },
    fleet: { type: 'string', value: 'NAME', describe: 'fleet name, for the default trust domain (default "default")' },
    'trust-domain': { type: 'string', value: 'TD', describe: 'SPIFFE trust domain (default <fleet>.x0tta6bl4)' },
    days: { type: 'number', value: 'N', describe: 'validity: CA 3650, node 365, CRL next update 30' },
    'peer-id': { type: 'string', value: 'ID', describe: 'the router\'s libp2p peer id (issue)' },
    out: { type: 'string', value: 'FILE', describe: 'write the certificate here instead of stdout (issue)' },
    serial: { type: 'string', value: 'HEX', describe: 'serial of the certificate to revoke' },
    cert: { type: 'string', value: 'FILE', describe: 'certificate to revoke (its serial is read)' },
    config: { type: 'string', value: 'PATH', describe: 'config file, for `pki id` (default /etc/config/x0tta6bl4)' },
  },
  async run({ flags, positionals, io }) {
    const sub = positionals[0];
    if (positionals.length > 1) throw new UsageError(`pki ${sub} takes no further arguments (got '${positionals[1]}')`);
    const dir = typeof flags.dir === 'string' ? flags.dir : 'fleet-pki';
    switch (sub) {
      case 'init':
        return init(dir, flags, io.out);
      case 'issue':
        return issue(dir, flags, io.out);
      case 'revoke':
        return revoke(dir, flags, io.out);
      case 'id':
        return id(flags, io.out);
      case undefined:
        throw new UsageError('pki needs a subcommand: init, issue, revoke or id');
      default:
        throw new UsageError(`unknown pki subcommand '${sub}' (init, issue, revoke, id)`);
    }
  },
};

function days(flags: FlagValues, def: number): number {
  const d = flags.days ?? def;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 36500) throw new UsageError(`--days must be a whole number from 1 to 36500, got ${String(flags.days)}`);
  return d;
}

function paths(dir: string) {
  return { cert: join(dir, 'fleet-ca.pem'), key: join(dir, 'fleet-ca.key'), meta: join(dir, 'pki.json'), crl: join(dir, 'fleet.crl') };
}

function init(dir: string, flags: FlagValues, out: (s: string) => void): number {
  const p = paths(dir);
  if (existsSync(p.key) || existsSync(p.cert)) throw new UserError(`${dir} already holds a fleet CA; refusing to overwrite it (every node certificate depends on it)`);
  const fleet = typeof flags.fleet === 'string' ? flags.fleet : 'default';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(fleet)) throw new UsageError(`--fleet '${fleet}' is not a fleet name (1 to 64 letters, digits, '_' or '-')`);
  const trustDomain = typeof flags['trust-domain'] === 'string' ? flags['trust-domain'] : defaultTrustDomain(fleet);
  if (!/^[a-z0-9._-]{1,255}$/.test(trustDomain)) throw new UsageError(`--trust-domain '${trustDomain}' is not a SPIFFE trust domain (lowercase letters, digits, '.', '_', '-')`);
  const name = typeof flags.name === 'string' ? flags.name : `${fleet} fleet CA`;
  const ca = createFleetCa(name, days(flags, 3650));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(p.key, ca.keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(p.cert, ca.certPem, { flag: 'wx' });
    const meta: PkiMeta = { trustDomain, crlNumber: '1', revoked: [] };
    writeFileSync(p.meta, JSON.stringify(meta, null, 2) + '\n');
    writeCrl(dir, meta, 30);
  } catch (e) {
    throw new UserError(`cannot write the fleet CA into ${dir}: ${(e as Error).message}`);
  }
  out(`fleet CA '${name}' (trust domain ${trustDomain}) in ${dir}:\n  ${p.cert}  copy to every router as <state_dir>/fleet-ca.pem\n  ${p.key}  keep it secret, off the routers`);
  return 0;
}

function loadCa(dir: string): { cert: X509Certificate; key: ReturnType<typeof createPrivateKey>; meta: PkiMeta } {
  const p = paths(dir);
  try {
    const cert = new X509Certificate(readFileSync(p.cert));
    const key = createPrivateKey(readFileSync(p.key));
    const meta = JSON.parse(readFileSync(p.meta, 'utf8')) as PkiMeta;
    if (typeof meta.trustDomain !== 'string' || !Array.isArray(meta.revoked)) throw new Error('pki.json is damaged');
    return { cert, key, meta };
  } catch (e) {
    throw new UserError(`no usable fleet CA in ${dir} (${(e as Error).message}); run \`x0tta6bl4 pki init --dir ${dir}\` first`);
  }
}

function issue(dir: string, flags: FlagValues, out: (s: string) => void): number {
  const peerId = flags['peer-id'];
  if (typeof peerId !== 'string') throw new UsageError('pki issue needs --peer-id (run `x0tta6bl4 pki id` on the router)');
  const nodeKey = publicKeyOfPeerId(peerId);
  if (!nodeKey) throw new UsageError(`'${peerId}' is not an Ed25519 libp2p peer id (12D3KooW...)`);
  const { cert, key, meta } = loadCa(dir);
  const name = typeof flags.name === 'string' ? flags.name : peerId;
  const issued = issueNodeCertificate({ ca: cert, caKey: key, nodeKey, spiffeId: `spiffe://${meta.trustDomain}/node/${peerId}`, commonName: name, days: days(flags, 365) });
  const serial = issued.serial.toString(16).toUpperCase();
  if (typeof flags.out === 'string') {
    try {
      writeFileSync(flags.out, issued.pem);
    } catch (e) {
      throw new UserError(`cannot write ${flags.out}: ${(e as Error).message}`);
    }
    out(`certificate for ${peerId} (serial ${serial}, valid until ${new Date(issued.notAfter).toISOString()}) in ${flags.out}`);
  } else {
    out(issued.pem.trimEnd());
  }
  return 0;
}

function revoke(dir: string, flags: FlagValues, out: (s: string) => void): number {
  let serial: string;
  if (typeof flags.cert === 'string') {
    try {
      serial = new X509Certificate(readFileSync(flags.cert)).serialNumber;
    } catch (e) {
      throw new UserError(`cannot read the certificate ${flags.cert}: ${(e as Error).message}`);
    }
  } else if (typeof flags.serial === 'string' && SERIAL.test(flags.serial)) {
    serial = flags.serial.replace(/:/g, '');
  } else {
    throw new UsageError('pki revoke needs --serial HEX or --cert FILE');
  }
  const ca = loadCa(dir);
  const big = BigInt('0x' + serial);
  if (!ca.meta.revoked.some((r) => BigInt('0x' + r.serial) === big)) ca.meta.revoked.push({ serial: big.toString(16).toUpperCase(), at: Date.now() });
  ca.meta.crlNumber = String(BigInt(ca.meta.crlNumber) + 1n);
  writeCrl(dir, ca.meta, days(flags, 30), ca);
  writeFileSync(paths(dir).meta, JSON.stringify(ca.meta, null, 2) + '\n');
  out(`revoked serial ${big.toString(16).toUpperCase()}; ${paths(dir).crl} is CRL number ${ca.meta.crlNumber} with ${ca.meta.revoked.length} entr${ca.meta.revoked.length === 1 ? 'y' : 'ies'}`);
  return 0;
}

function writeCrl(dir: string, meta: PkiMeta, d: number, ca = loadCa(dir)): void {
  const pem = createCrl({ ca: ca.cert, caKey: ca.key, number: BigInt(meta.crlNumber), revoked: meta.revoked.map((r) => ({ serial: BigInt('0x' + r.serial), at: r.at })), days: d });
  writeFileSync(paths(dir).crl, pem);
}

async function id(flags: FlagValues, out: (s: string) => void): Promise<number> {
  const { config } = loadConfigForCli(flags);
  const s = federationSettings(config, VERSION, '');
  try {
    const { key, created } = await loadOrCreateIdentity(s.keyFile);
    out(signerFor(key).peerId);
    if (created) out(`(new identity written to ${s.keyFile})`);
  } catch (e) {
    if (e instanceof IdentityError) throw new UserError(e.message);
    throw e;
  }
  return 0;
}
