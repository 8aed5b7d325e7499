// Decides whether a received command may run: cheap shape and target checks first, then the
// certificate chain (an operator certificate of the fleet, not revoked) and signature, then the nonce (only a correctly signed command can take a
// nonce-cache slot), then the arguments. Each refusal is a CommandRejected with a reason that is
// sent back on the reply topic.
import { X509Certificate } from 'node:crypto';
import { CertificateError, describeCert, FleetCa, parseCertificates, verifyOperatorCertificate } from '../federation/fleet-ca.ts';
import { parseCommandArgs, type CommandArgs } from './command-args.ts';
import { COMMAND_NAMES, CommandRejected, parseEnvelope, signatureValid, type CommandEnvelope, type CommandName } from './command-envelope.ts';
import type { NonceCache } from './nonce-cache.ts';

export interface CommandCheckOptions {
  fleet: string;
  node: string;
  /** null: no fleet CA configured, every command is refused. */
  trust: FleetCa | null;
  /** The fleet's SPIFFE trust domain: signers are spiffe://<trustDomain>/operator/<name>. */
  trustDomain: string;
  /** Revoked per the fleet's CRL (absent: nothing is revoked). */
  revoked?: (cert: X509Certificate) => boolean;
  /** How far a command's ts may be from this node's clock. */
  maxSkewMs: number;
  /** Commands issued before this (the agent's start) are refused: the nonce cache is not kept across restarts. */
  notBeforeMs: number;
  nonces: NonceCache;
  now: number;
}

export type AcceptedCommand = {
  [K in CommandName]: { name: K; args: CommandArgs[K]; envelope: CommandEnvelope; signer: string };
}[CommandName];

function isCommandName(s: string): s is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(s);
}

/** Parses just enough of a payload to echo its nonce in a refusal, if it has one. */
export function nonceOf(raw: Uint8Array): string | null {
  try {
    const n = (JSON.parse(Buffer.from(raw).toString('utf8')) as { nonce?: unknown }).nonce;
    return typeof n === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(n) ? n : null;
  } catch {
    return null;
  }
}

export function checkCommand(raw: Uint8Array, topicCommand: string, o: CommandCheckOptions): AcceptedCommand {
  const env = parseEnvelope(raw);
  if (env.cmd !== topicCommand) throw new CommandRejected('wrong-topic', `envelope says '${env.cmd}' but arrived on cmd/${topicCommand}`);
  if (env.fleet !== o.fleet || env.node !== o.node)
    throw new CommandRejected('wrong-node', `addressed to ${env.fleet}/${env.node}, this is ${o.fleet}/${o.node}`);
  if (!isCommandName(env.cmd)) throw new CommandRejected('unknown-command', `unknown command '${env.cmd}' (known: ${COMMAND_NAMES.join(', ')})`);
  if (!o.trust) throw new CommandRejected('disabled', 'commands are disabled on this node: no fleet CA configured');

  const ts = Date.parse(env.ts);
  if (Math.abs(o.now - ts) > o.maxSkewMs)
    throw new CommandRejected('stale', `ts ${env.ts} is ${Math.round((o.now - ts) / 1000)} s from this node's clock ${new Date(o.now).toISOString()}; at most ${o.maxSkewMs / 1000} s allowed`);
  if (ts < o.notBeforeMs) throw new CommandRejected('stale', `issued before this agent started (${new Date(o.notBeforeMs).toISOString()})`);

  let chain: X509Certificate[];
  let signer: string;
  try {
    chain = parseCertificates(env.cert, 'cert');
    const id = verifyOperatorCertificate(o.trust, chain, { now: o.now, trustDomain: o.trustDomain });
    signer = `operator ${id.operator} ${describeCert(id.leaf)}`;
  } catch (e) {
    if (e instanceof CertificateError) throw new CommandRejected('untrusted', `signer certificate: ${e.message}`);
    throw e;
  }
  if (o.revoked?.(chain[0]!)) throw new CommandRejected('untrusted', `signer certificate: ${signer} is revoked (fleet CRL)`);
  if (!signatureValid(env, chain[0]!)) throw new CommandRejected('bad-signature', `signature does not verify with ${signer}`);

  const verdict = o.nonces.check(env.nonce, ts + o.maxSkewMs, o.now);
  if (verdict === 'replay') throw new CommandRejected('replay', `nonce ${env.nonce} was already used`);
  if (verdict === 'full') throw new CommandRejected('busy', 'too many commands in the freshness window; retry later');

  const name = env.cmd;
  return { name, args: parseCommandArgs(name, env.args), envelope: env, signer } as AcceptedCommand;
}
