// A bare libp2p node speaking our protocols by hand, for the attacks the honest code never
// makes: no certificate, someone else's certificate, garbage, stale or tampered envelopes.
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { createFederationNode, type FederationNode } from '../../src/federation/node.ts';
import { ADMISSION_PROTOCOL } from '../../src/federation/federation.ts';
import { readFrames, writeFrames } from '../../src/federation/stream-frames.ts';
import { signerFor, type Signer } from '../../src/federation/ed25519.ts';

export interface RawPeer {
  node: FederationNode;
  signer: Signer;
  peerId: string;
  key: PrivateKey;
}

export async function rawPeer(key?: PrivateKey): Promise<RawPeer> {
  const k = key ?? ((await generateKeyPair('Ed25519')) as unknown as PrivateKey);
  const node = await createFederationNode({ privateKey: k, listen: ['/ip4/127.0.0.1/tcp/0'], maxConnections: 64, maxMessageBytes: 1 << 20, discovery: null, inboundPerHostPerSecond: 1000, denyPeer: () => false });
  await node.start();
  const signer = signerFor(k);
  return { node, signer, peerId: signer.peerId, key: k };
}

/** Connects and, unless chain is null, presents it; returns the target's answer ('ok' or the refusal). */
export async function presentChain(p: RawPeer, addr: string, chain: string | Uint8Array | null): Promise<string> {
  await p.node.dial(multiaddr(addr));
  if (chain === null) return 'not presented';
  const target = peerIdFromString(addr.split('/p2p/')[1]!);
  const stream = await p.node.dialProtocol(target, ADMISSION_PROTOCOL);
  await writeFrames(stream, [typeof chain === 'string' ? Buffer.from(chain) : chain]);
  let reply = '';
  await readFrames(stream, 4096, 8192, (b) => (reply = b[0] === 1 ? 'ok' : Buffer.from(b.subarray(1)).toString()), 1);
  return reply;
}

export function connectedTo(p: RawPeer, peerId: string): boolean {
  return p.node.getConnections(peerIdFromString(peerId)).length > 0;
}
