// A radio medium for mac80211_hwsim, in the role of wmediumd (which Debian does not package):
// registered over hwsim's generic netlink family, it receives every frame the radios send and
// decides, per pair of radios, whether each transmission attempt arrives and is acknowledged,
// at what signal. mac80211 above it is the real one: its retries, failures, rate control and
// station statistics come from these decisions as they would from the air. Test-bed only.
//
// Wire format from include/uapi/linux/mac80211_hwsim.h (drivers/net/wireless/ in 6.1):
// commands REGISTER 1, FRAME 2, TX_INFO_FRAME 3; attributes ADDR_RECEIVER 1, ADDR_TRANSMITTER 2,
// FRAME 3, FLAGS 4, RX_RATE 5, SIGNAL 6, TX_INFO 7 (4 × {s8 idx, u8 count}), COOKIE 8, FREQ 19.
// A radio is named on this interface by its second address: its MAC with 0x40 set in byte 0.
import { AttrWriter, formatMac, forEachAttr } from '../../../src/netlink/attributes.ts';
import { openBridge, type BridgeTransport } from '../../../src/netlink/bridge-transport.ts';
import { encodeGenlPayload, decodeGenl } from '../../../src/netlink/genl.ts';
import { NlmsgFlag, NlmsgType, decodeDatagram, decodeErrorReply, encodeMessage } from '../../../src/netlink/nlmsg.ts';

const FAMILY = 'MAC80211_HWSIM';
const Cmd = { REGISTER: 1, FRAME: 2, TX_INFO_FRAME: 3 } as const;
const Attr = { ADDR_RECEIVER: 1, ADDR_TRANSMITTER: 2, FRAME: 3, FLAGS: 4, RX_RATE: 5, SIGNAL: 6, TX_INFO: 7, COOKIE: 8, FREQ: 19 } as const;
const Flag = { NO_ACK: 2, STAT_ACK: 4 } as const;

/** One direction of a pair of radios. */
export interface PathState {
  /** Chance that one transmission attempt is lost (0..1; 1: out of range). */
  loss: number;
  signalDbm: number;
}

export interface MediumStats {
  frames: number; delivered: number; acked: number; failed: number;
  /** Netlink receive buffer overruns the bridge reported: hwsim's messages lost before the medium saw them (a slow medium, not the air). */
  overruns: number;
}

/** The hwsim address of the radio whose interface has `mac`. */
export const hwsimAddrOf = (mac: string) => (parseInt(mac.slice(0, 2), 16) | 0x40).toString(16).padStart(2, '0') + mac.slice(2);

export class HwsimMedium {
  readonly stats: MediumStats = { frames: 0, delivered: 0, acked: 0, failed: 0, overruns: 0 };
  private paths = new Map<string, PathState>();
  private seq = 1;

  private constructor(
    private readonly bridge: BridgeTransport,
    private readonly familyId: number,
    /** Interface MAC -> hwsim address, for every radio in the medium. */
    private readonly radios: Map<string, string>,
    private readonly random: () => number,
  ) {}

  /** Registers as hwsim's medium (from the namespace the radios were created in) for the radios with these interface MACs; every pair starts out of range. */
  static async start(macs: string[], random: () => number = Math.random): Promise<HwsimMedium> {
    const bridge = await openBridge({ protocol: 'generic', families: [FAMILY] });
    const family = bridge.ready.families.get(FAMILY);
    if (!family?.id) throw new Error(`hwsim family not resolved (errno ${family?.errno}): is mac80211_hwsim loaded?`);
    const m = new HwsimMedium(bridge, family.id, new Map(macs.map((mac) => [mac, hwsimAddrOf(mac)])), random);
    bridge.onBridgeError(() => void m.stats.overruns++);
    await m.register();
    return m;
  }

  /** Sets both directions between two radios (by interface MAC). */
  link(a: string, b: string, state: PathState): void {
    this.paths.set(`${a}>${b}`, state);
    this.paths.set(`${b}>${a}`, state);
  }

  path(from: string, to: string): PathState {
    return this.paths.get(`${from}>${to}`) ?? { loss: 1, signalDbm: -100 };
  }

  async close(): Promise<void> {
    await this.bridge.close();
  }

  private send(cmd: number, attrs: AttrWriter, flags: number = NlmsgFlag.REQUEST): number {
    const seq = this.seq++;
    this.bridge.send(encodeMessage({ type: this.familyId, flags, seq, pid: 0 }, encodeGenlPayload(cmd, 1, attrs.finish())));
    return seq;
  }

  private register(): Promise<void> {
    return new Promise((resolve, reject) => {
      const off = this.bridge.onDatagram((d) => {
        for (const msg of decodeDatagram(d)) {
          if (msg.type === NlmsgType.ERROR) {
            const e = decodeErrorReply(msg);
            if (e.request.seq !== registerSeq) continue;
            if (e.error !== 0) reject(new Error(`HWSIM_CMD_REGISTER refused: errno ${-e.error}`));
            else resolve();
          } else if (msg.type === this.familyId) {
            try {
              const g = decodeGenl(msg);
              if (g.cmd === Cmd.FRAME) this.onFrame(g.attrs);
            } catch (err) {
              process.stderr.write(`hwsim-medium: bad frame message: ${(err as Error).message}\n`);
            }
          }
        }
      });
      const registerSeq = this.send(Cmd.REGISTER, new AttrWriter(), NlmsgFlag.REQUEST | NlmsgFlag.ACK);
      this.bridge.onReset((e) => {
        off();
        reject(e);
      });
    });
  }

  /** One frame from a radio: each attempt of its rate table either reaches the receiver (and is acknowledged) or not. */
  private onFrame(attrs: Uint8Array): void {
    let transmitter = '';
    let frame: Uint8Array | undefined;
    let flags = 0;
    let txInfo: Uint8Array | undefined;
    let cookie: Uint8Array | undefined;
    let freq: number | undefined;
    forEachAttr(attrs, (type, p) => {
      if (type === Attr.ADDR_TRANSMITTER && p.length === 6) transmitter = formatMac(p);
      else if (type === Attr.FRAME) frame = p;
      else if (type === Attr.FLAGS && p.length === 4) flags = new DataView(p.buffer, p.byteOffset).getUint32(0, true);
      else if (type === Attr.TX_INFO) txInfo = Uint8Array.from(p);
      else if (type === Attr.COOKIE) cookie = p;
      else if (type === Attr.FREQ && p.length === 4) freq = new DataView(p.buffer, p.byteOffset).getUint32(0, true);
    });
    if (!frame || frame.length < 10 || !txInfo || !cookie) return;
    this.stats.frames++;
    const from = [...this.radios].find(([, addr]) => addr === transmitter)?.[0];
    const dest = formatMac(frame.subarray(4, 10));
    const multicast = (frame[4]! & 1) === 1;
    let acked = false;
    let signal = -100;
    if (from && multicast) {
      // No acknowledgement, one attempt: every radio in range hears it or not on its own.
      for (const [to, addr] of this.radios) {
        if (to === from) continue;
        const p = this.path(from, to);
        if (this.random() >= p.loss) this.deliver(addr, frame, txInfo[0]! << 24 >> 24, p.signalDbm, freq);
      }
      txInfo[1] = 1;
      endRates(txInfo, 1);
      acked = (flags & Flag.NO_ACK) === 0;
    } else if (from && this.radios.has(dest)) {
      const there = this.path(from, dest);
      const back = this.path(dest, from);
      signal = back.signalDbm;
      let delivered = false;
      // Walk the rate table (idx -1 ends it): each attempt is lost, or arrives and its ACK is lost, or both arrive.
      for (let stage = 0; stage < txInfo.length / 2 && !acked; stage++) {
        const idx = txInfo[stage * 2]! << 24 >> 24;
        const count = txInfo[stage * 2 + 1]!;
        if (idx < 0) break;
        let used = 0;
        for (; used < count && !acked; used++) {
          if (this.random() < there.loss) continue;
          if (!delivered) this.deliver(this.radios.get(dest)!, frame, idx, there.signalDbm, freq);
          delivered = true;
          acked = this.random() >= back.loss;
        }
        txInfo[stage * 2 + 1] = used;
        if (acked) endRates(txInfo, stage + 1);
      }
      if (delivered) this.stats.delivered++;
    }
    if (acked) this.stats.acked++;
    else this.stats.failed++;
    const w = new AttrWriter().bytes(Attr.ADDR_TRANSMITTER, macBytes(transmitter))
      .u32(Attr.FLAGS, acked ? flags | Flag.STAT_ACK : flags & ~Flag.STAT_ACK)
      .u32(Attr.SIGNAL, signal >>> 0)
      .bytes(Attr.TX_INFO, txInfo)
      .bytes(Attr.COOKIE, cookie);
    this.send(Cmd.TX_INFO_FRAME, w);
  }

  private deliver(receiver: string, frame: Uint8Array, rateIdx: number, signalDbm: number, freq: number | undefined): void {
    const w = new AttrWriter().bytes(Attr.ADDR_RECEIVER, macBytes(receiver)).bytes(Attr.FRAME, frame).u32(Attr.RX_RATE, Math.max(0, rateIdx)).u32(Attr.SIGNAL, signalDbm >>> 0);
    if (freq !== undefined) w.u32(Attr.FREQ, freq);
    this.send(Cmd.FRAME, w);
  }
}

/** Marks the rate table's stages from `stage` on as unused (idx -1, count 0), as mac80211 reads it. */
function endRates(txInfo: Uint8Array, stage: number): void {
  for (let s = stage; s < txInfo.length / 2; s++) (txInfo[s * 2] = 0xff), (txInfo[s * 2 + 1] = 0);
}

const macBytes = (mac: string) => Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
