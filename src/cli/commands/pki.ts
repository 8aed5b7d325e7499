// `x0tta6bl4 pki`: the operator's fleet CA (init), node certificates (issue), operator
// certificates that sign fleet commands (issue-operator), revocation
// (revoke, writes a CRL), fleet-wide settings (setting) — run on the operator's machine; and
// `pki id`, run on a router, which prints the peer id the operator needs for `issue`.
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, UserError, type CliCommand, type FlagValues } from '../command.ts';
import { loadConfigForCli } from '../config-path.ts';
import { operatorNameProblem } from '../../federation/fleet-ca.ts';
import { createCrl, createFleetCa, issueNodeCertificate, issueOperatorCertificate, rawEd25519, signSetting } from '../../federation/pki-issue.ts';
import { fleetSettingChange } from '../../federation/fleet-settings.ts';
import { defaultConfig } from '../../config/defaults.ts';
import { publicKeyOfPeerId, signerFor } from '../../federation/ed25519.ts';
import { defaultTrustDomain, federationSettings } from '../../federation/settings.ts';
import { loadOrCreateIdentity, IdentityError } from '../../federation/identity.ts';
import { VERSION } from '../../version.ts';
import { hasNonPrintable } from '../../config/printable.ts';

const USAGE = `usage: x0tta6bl4 pki init [--dir DIR] [--name CN] [--fleet NAME] [--trust-domain TD] [--days N]
       x0tta6bl4 pki issue --peer-id ID [--dir DIR] [--name CN] [--days N] [--out FILE]
       x0tta6bl4 pki issue-operator --name NAME [--dir DIR] [--days N] [--out FILE]
       x0tta6bl4 pki revoke (--serial HEX | --cert FILE) [--dir DIR] [--days N]
       x0tta6bl4 pki setting SECTION.OPTION (VALUE | --unset) [--dir DIR] [--ca-key FILE] [--fleet NAME] [--out FILE]
       x0tta6bl4 pki id [--config PATH]

The fleet PKI. init, issue, issue-operator, revoke and setting run on the operator's machine, in DIR (default ./fleet-pki):
  init    creates the fleet CA (Ed25519): fleet-ca.pem (copy to every router as
          <state_dir>/fleet-ca.pem), fleet-ca.key (keep it off the routers), an empty fleet.crl
  issue   a node certificate for a router's peer id (from \`x0tta6bl4 pki id\` on that router):
          its key is the router's libp2p key, its URI SAN spiffe://<trust-domain>/node/<peer-id>.
          Copy it to the router as <state_dir>/node-cert.pem
  issue-operator  an operator certificate, the only kind that signs MQTT fleet commands (the
          fleet CA's own key and node certificates never do): a new Ed25519 key, URI SAN
          spiffe://<trust-domain>/operator/<NAME>. Writes FILE (default DIR/operators/NAME.pem)
          and its key beside it (FILE without .pem, plus .key; mode 0600); revoke it like a node
  revoke  adds a certificate to the revocation list and rewrites fleet.crl; copy it to any one
          router as <state_dir>/fleet.crl and the fleet spreads it within one gossip round
  setting a fleet-wide config option signed by the fleet CA (e.g. healing.cooldown 300), written
          to DIR/settings/SECTION.OPTION.setting; copy it into <state_dir>/fleet-settings/ on
          any one router: the fleet spreads it and every agent applies it in memory as the MQTT
          \`set\` command does. A newer setting replaces an older one; --unset withdraws it (each router
          goes back to its own UCI value). Per-router options, lists and secrets are refused
  id      (on a router) prints this node's peer id, creating its identity on first use`;

const SERIAL = /^[0-9A-Fa-f:]{1,64}$/;

interface PkiMeta {
  trustDomain: string;
  /** The fleet name (agent.fleet): fleet settings are signed for it. Absent in older pki.json. */
  fleet?: string;
  crlNumber: string;
  revoked: { serial: string; at: number }[];
}

export const pkiCommand: CliCommand = {
  name: 'pki',
  summary: 'fleet CA, node certificates and revocation (operator) / this node\'s peer id',
  usage: USAGE,
  flags: {
    dir: { type: 'string', value: 'DIR', describe: 'the fleet PKI directory (default ./fleet-pki)' },
    name: { type: 'string', value: 'CN', describe: 'common name of the CA or node certificate; the operator name (issue-operator)' },
    fleet: { type: 'string', value: 'NAME', describe: 'fleet name, for the default trust domain (default "default")' },
    'trust-domain': { type: 'string', value: 'TD', describe: 'SPIFFE trust domain (default <fleet>.x0tta6bl4)' },
    days: { type: 'number', value: 'N', describe: 'validity: CA 3650, node 365, CRL next update 30' },
    'peer-id': { type: 'string', value: 'ID', describe: 'the router\'s libp2p peer id (issue)' },
    out: { type: 'string', value: 'FILE', describe: 'write the certificate here instead of stdout (issue; issue-operator: its key goes beside it)' },
    serial: { type: 'string', value: 'HEX', describe: 'serial of the certificate to revoke' },
    cert: { type: 'string', value: 'FILE', describe: 'certificate to revoke (its serial is read)' },
    config: { type: 'string', value: 'PATH', describe: 'config file, for `pki id` (default /etc/config/x0tta6bl4)' },
    'ca-key': { type: 'string', value: 'FILE', describe: 'fleet CA private key (setting; default DIR/fleet-ca.key)' },
    unset: { type: 'boolean', describe: 'withdraw the fleet-wide setting (setting)' },
  },
  async run({ flags, positionals, io }) {
    const sub = positionals[0];
    const dir = typeof flags.dir === 'string' ? flags.dir : 'fleet-pki';
    if (sub === 'setting') return setting(dir, positionals.slice(1), flags, io.out);
    if (positionals.length > 1) throw new UsageError(`pki ${sub} takes no further arguments (got '${positionals[1]}')`);
    switch (sub) {
      case 'init':
        return init(dir, flags, io.out);
      case 'issue':
        return issue(dir, flags, io.out);
      case 'issue-operator':
        return issueOperator(dir, flags, io.out);
      case 'revoke':
        return revoke(dir, flags, io.out);
      case 'id':
        return id(flags, io.out);
      case undefined:
        throw new UsageError('pki needs a subcommand: init, issue, issue-operator, revoke, setting or id');
      default:
        throw new UsageError(`unknown pki subcommand '${sub}' (init, issue, issue-operator, revoke, setting, id)`);
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
  const givenName = commonNameFlag(flags);
  const p = paths(dir);
  if (existsSync(p.key) || existsSync(p.cert)) throw new UserError(`${dir} already holds a fleet CA; refusing to overwrite it (every node certificate depends on it)`);
  const fleet = typeof flags.fleet === 'string' ? flags.fleet : 'default';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(fleet)) throw new UsageError(`--fleet '${fleet}' is not a fleet name (1 to 64 letters, digits, '_' or '-')`);
  const trustDomain = typeof flags['trust-domain'] === 'string' ? flags['trust-domain'] : defaultTrustDomain(fleet);
  if (!/^[a-z0-9._-]{1,255}$/.test(trustDomain)) throw new UsageError(`--trust-domain '${trustDomain}' is not a SPIFFE trust domain (lowercase letters, digits, '.', '_', '-')`);
  const name = givenName ?? `${fleet} fleet CA`;
  const ca = createFleetCa(name, days(flags, 3650));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(p.key, ca.keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(p.cert, ca.certPem, { flag: 'wx' });
    const meta: PkiMeta = { trustDomain, fleet, crlNumber: '1', revoked: [] };
    writeFileSync(p.meta, JSON.stringify(meta, null, 2) + '\n');
    writeCrl(dir, meta, 30);
  } catch (e) {
    throw new UserError(`cannot write the fleet CA into ${dir}: ${(e as Error).message}`);
  }
  out(`fleet CA '${name}' (trust domain ${trustDomain}) in ${dir}:\n  ${p.cert}  copy to every router as <state_dir>/fleet-ca.pem\n  ${p.key}  keep it secret, off the routers`);
  return 0;
}

/** X.509's upper bound for a common name (RFC 5280 ub-common-name), in characters. */
const MAX_COMMON_NAME = 64;

/** --name if given and usable as a certificate's common name, else a UsageError; undefined if absent. */
function commonNameFlag(flags: FlagValues): string | undefined {
  const name = flags.name;
  if (typeof name !== 'string') return undefined;
  const chars = Array.from(name).length;
  if (chars === 0 || chars > MAX_COMMON_NAME)
    throw new UsageError(`--name must be 1 to ${MAX_COMMON_NAME} characters (got ${chars})`);
  // Certificates are printed by openssl, logs and /status: nothing there may hide or reorder text.
  if (hasNonPrintable(name)) throw new UsageError(`--name must not contain control or format characters (got '${name}')`);
  return name;
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
  const givenName = commonNameFlag(flags);
  const nodeKey = publicKeyOfPeerId(peerId);
  if (!nodeKey) throw new UsageError(`'${peerId}' is not an Ed25519 libp2p peer id (12D3KooW...)`);
  const { cert, key, meta } = loadCa(dir);
  const name = givenName ?? peerId;
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

function issueOperator(dir: string, flags: FlagValues, out: (s: string) => void): number {
  const name = flags.name;
  if (typeof name !== 'string') throw new UsageError('pki issue-operator needs --name NAME (who signs the commands, e.g. alice)');
  const problem = operatorNameProblem(name);
  if (problem) throw new UsageError(`--name ${problem}`);
  const d = days(flags, 365);
  const { cert, key, meta } = loadCa(dir);
  const certFile = typeof flags.out === 'string' ? flags.out : join(dir, 'operators', `${name}.pem`);
  const keyFile = `${certFile.replace(/\.pem$/, '')}.key`;
  const pair = generateKeyPairSync('ed25519');
  const spiffeId = `spiffe://${meta.trustDomain}/operator/${name}`;
  const issued = issueOperatorCertificate({ ca: cert, caKey: key, operatorKey: rawEd25519(pair.publicKey), spiffeId, commonName: name, days: d });
  try {
    if (typeof flags.out !== 'string') mkdirSync(join(dir, 'operators'), { recursive: true, mode: 0o700 });
    // Exclusive: an existing key (maybe in use) is never overwritten, and no planted link is followed.
    writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    throw new UserError(`cannot write the operator key ${keyFile}: ${(e as Error).message}`);
  }
  try {
    writeFileSync(certFile, issued.pem, { flag: 'wx' });
  } catch (e) {
    rmSync(keyFile, { force: true });
    throw new UserError(`cannot write the operator certificate ${certFile}: ${(e as Error).message}`);
  }
  const serial = issued.serial.toString(16).toUpperCase();
  out(`operator certificate ${spiffeId} (serial ${serial}, valid until ${new Date(issued.notAfter).toISOString()}):\n  ${certFile}\n  ${keyFile}  (the key: keep it secret)`);
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

function setting(dir: string, args: string[], flags: FlagValues, out: (s: string) => void): number {
  const unset = flags.unset === true;
  const [name, value, extra] = args;
  if (!name) throw new UsageError('pki setting needs SECTION.OPTION and a VALUE (or --unset)');
  if (unset ? value !== undefined : value === undefined || extra !== undefined)
    throw new UsageError(unset ? 'pki setting --unset takes only SECTION.OPTION' : 'pki setting takes SECTION.OPTION and one VALUE (quote a value with spaces)');
  // Checked here against the schema, so a typo fails on the operator's machine, not on every router.
  const d = defaultConfig();
  const check = fleetSettingChange(d, d, name, unset ? null : value!);
  if (!check.ok) throw new UsageError(`pki setting: ${check.reason}`);
  const keyFile = typeof flags['ca-key'] === 'string' ? flags['ca-key'] : paths(dir).key;
  let fleet = typeof flags.fleet === 'string' ? flags.fleet : undefined;
  if (fleet === undefined) {
    try {
      fleet = (JSON.parse(readFileSync(paths(dir).meta, 'utf8')) as PkiMeta).fleet;
    } catch {
      /* no pki.json: --fleet is required, said below */
    }
  }
  if (fleet === undefined) throw new UsageError(`pki setting needs --fleet NAME (agent.fleet of the routers; ${paths(dir).meta} does not name it)`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(fleet)) throw new UsageError(`--fleet '${fleet}' is not a fleet name (1 to 64 letters, digits, '_' or '-')`);
  let caKey;
  try {
    caKey = createPrivateKey(readFileSync(keyFile));
  } catch (e) {
    throw new UserError(`cannot read the fleet CA key ${keyFile}: ${(e as Error).message}`);
  }
  const entry = signSetting({ caKey, fleet, name, value: unset ? '' : value!, unset });
  const file = typeof flags.out === 'string' ? flags.out : join(dir, 'settings', `${name}.setting`);
  try {
    if (typeof flags.out !== 'string') mkdirSync(join(dir, 'settings'), { recursive: true });
    writeFileSync(`${file}.tmp`, entry);
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw new UserError(`cannot write ${file}: ${(e as Error).message}`);
  }
  out(`${unset ? `withdrawal of ${name}` : `${name} = ${JSON.stringify(value)}`} for fleet ${fleet}, signed by the fleet CA, in ${file}
  copy it into <state_dir>/fleet-settings/ on any one router; the fleet spreads it`);
  return 0;
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
