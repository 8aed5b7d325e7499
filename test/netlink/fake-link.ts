// An in-memory stand-in for the netlink bridge transport, used where the real one cannot be:
// the host kernel has no batman-adv, so batadv replies are hand-built here from the kernel's
// layouts (see wire.ts). The real path is exercised by test/guest/batadv-*.guest.ts in QEMU.
import type { DatagramLink } from '../../src/netlink/requester.ts';
import { readRequest } from './wire.ts';

export type Request = ReturnType<typeof readRequest>;
/** Answers one request with zero or more datagrams (each Buffer is one datagram). */
export type Responder = (req: Request) => Buffer[] | undefined;

export class FakeLink implements DatagramLink {
  sent: Request[] = [];
  joined: number[] = [];
  joinError: Error | undefined;
  sendError: Error | undefined;
  private datagramListeners = new Set<(d: Uint8Array) => void>();
  private resetListeners = new Set<(e: Error) => void>();

  constructor(public respond: Responder = () => undefined) {}

  send(datagram: Uint8Array): void {
    if (this.sendError) throw this.sendError;
    const req = readRequest(datagram);
    this.sent.push(req);
    const replies = this.respond(req);
    // Replies arrive asynchronously, as from a real socket.
    if (replies) setImmediate(() => replies.forEach((r) => this.deliver(r)));
  }
  onDatagram(listener: (d: Uint8Array) => void): () => void {
    this.datagramListeners.add(listener);
    return () => this.datagramListeners.delete(listener);
  }
  onReset(listener: (e: Error) => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }
  async joinGroup(groupId: number): Promise<void> {
    if (this.joinError) throw this.joinError;
    this.joined.push(groupId);
  }
  deliver(datagram: Uint8Array): void {
    for (const l of this.datagramListeners) l(new Uint8Array(datagram));
  }
  reset(reason: Error): void {
    for (const l of this.resetListeners) l(reason);
  }
  get listenerCount(): number {
    return this.datagramListeners.size;
  }
}
