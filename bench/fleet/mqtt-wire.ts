// Just enough MQTT 3.1.1 on a raw socket for thousands of simulated routers in one process
// (an MQTT.js client per router costs too much memory to simulate 5,000): CONNECT with a Will,
// PUBLISH at QoS 0/1, PINGREQ; reads CONNACK, PUBACK and PINGRESP. Never shipped.
import { connect, type Socket } from 'node:net';

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

const packet = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first]), varint(body.length), body]);

export interface WireWill {
  topic: string;
  payload: string;
}

export function connectPacket(clientId: string, keepaliveS: number, will: WireWill): Buffer {
  // Flags: clean session, will flag, will QoS 1, will retain.
  const flags = 0x02 | 0x04 | (1 << 3) | 0x20;
  const head = Buffer.concat([str('MQTT'), Buffer.from([4, flags, keepaliveS >> 8, keepaliveS & 0xff])]);
  return packet(0x10, Buffer.concat([head, str(clientId), str(will.topic), str(will.payload)]));
}

export function publishPacket(topic: string, payload: string, qos: 0 | 1, retain: boolean, id = 0): Buffer {
  const idBuf = qos ? Buffer.from([id >> 8, id & 0xff]) : Buffer.alloc(0);
  return packet(0x30 | (qos << 1) | (retain ? 1 : 0), Buffer.concat([str(topic), idBuf, Buffer.from(payload)]));
}

export const PINGREQ = Buffer.from([0xc0, 0]);

export interface WireHandlers {
  connack(code: number): void;
  puback(id: number): void;
  close(): void;
}

/** Opens a socket, sends CONNECT and calls back on CONNACK / PUBACK / close. */
export function openWire(port: number, connectBytes: Buffer, h: WireHandlers): Socket {
  const s = connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  let buf = Buffer.alloc(0);
  s.on('connect', () => s.write(connectBytes));
  s.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    for (;;) {
      if (buf.length < 2) return;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < 5 && i < buf.length; i++) {
        len += (buf[i]! & 0x7f) * mul;
        mul *= 128;
        if (!(buf[i]! & 0x80)) break;
      }
      if (i >= buf.length || buf.length < i + 1 + len) return;
      const type = buf[0]! >> 4;
      const body = buf.subarray(i + 1, i + 1 + len);
      if (type === 2) h.connack(body[1] ?? 255);
      else if (type === 4) h.puback(body.readUInt16BE(0));
      buf = buf.subarray(i + 1 + len);
    }
  });
  s.on('error', () => {});
  s.on('close', () => h.close());
  return s;
}
