// The node's libp2p identity: an ed25519 key made on first start and kept in a file, so the peer
// id (and with it the node certificate, which names the peer id) survives restarts and upgrades.
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { readRegularFile } from '../flash/safe-read.ts';
import { writeFileAtomic } from '../flash/write-atomic.ts';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

const MAX_KEY_FILE = 4096;

export async function loadOrCreateIdentity(file: string): Promise<{ key: PrivateKey; created: boolean }> {
  let bytes: Buffer | null;
  try {
    // No symlink: the agent writes this file; a link planted there would point the key elsewhere.
    bytes = readRegularFile(file, { maxBytes: MAX_KEY_FILE, noFollow: true });
  } catch (e) {
    throw new IdentityError(`cannot read the identity key ${(e as Error).message}`);
  }
  if (bytes) {
    // A damaged key is never replaced silently: a new key would be a new peer id that the node
    // certificate does not name, and the node would lose its fleet membership without a word.
    let key: PrivateKey;
    try {
      key = privateKeyFromProtobuf(bytes);
    } catch (e) {
      throw new IdentityError(`${file}: not a libp2p private key (${(e as Error).message}); move it away to make a new identity (the node then needs a new certificate)`);
    }
    if (key.type !== 'Ed25519') throw new IdentityError(`${file}: a ${key.type} key; the fleet uses Ed25519 identities`);
    return { key, created: false };
  }
  const key = await generateKeyPair('Ed25519');
  writeKeyFile(file, privateKeyToProtobuf(key));
  return { key, created: true };
}

/** Atomic and private (0600 whatever the umask or a planted file's mode); never over an existing file. */
function writeKeyFile(file: string, data: Uint8Array): void {
  try {
    writeFileAtomic(file, data, { mode: 0o600, dirMode: 0o700, existing: 'absent' });
  } catch (e) {
    throw new IdentityError(`${file}: cannot write the new identity key (${(e as Error).message})`);
  }
}
