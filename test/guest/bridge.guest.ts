// Inside the VM: the x64 netlink bridge alone (hand-built bytes, not the project's codec) on
// a kernel with batman-adv. READY carries the resolved batadv family and its multicast
// groups, a GET_MESH is answered with the mesh, and after JOIN of `config` a setting changed
// by batctl arrives as a multicast SET_MESH message (seq 0, port 0).
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NLM_F_REQUEST, attr, attrs, genlmsg, messages, u32, type Msg } from './lib/netlink-bytes.ts';
import { batctl, ip, loadMesh } from './lib/mesh.ts';

const mesh = loadMesh();
const node = mesh.nodes[0]!;
const BRIDGE = process.env.X0TTA6BL4_NLBRIDGE ?? `${process.env.X0VM_REPO ?? '.'}/dist/native/x0tta6bl4-nlbridge-x64`;
const Rec = { NL: 1, JOIN: 2, READY: 16, RESULT: 17 } as const;
const BATADV_CMD_GET_MESH = 1;
const BATADV_CMD_SET_MESH = 15;
const ATTR = { MESH_IFINDEX: 3, MESH_IFNAME: 4, ALGO_NAME: 2, HOP_PENALTY: 53 } as const;

/** The bridge in the node's namespace, with its length-framed records (u32 len, u16 kind, u16 0). */
function startBridge() {
  const child = spawn('nsenter', [`--net=/run/netns/${node.netns}`, BRIDGE, 'generic', 'batadv'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = Buffer.alloc(0);
  let stderr = '';
  const queue: Array<{ kind: number; payload: Buffer }> = [];
  let wake: (() => void) | undefined;
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 8 && buf.length >= 8 + buf.readUInt32LE(0)) {
      const len = buf.readUInt32LE(0);
      queue.push({ kind: buf.readUInt16LE(4), payload: Buffer.from(buf.subarray(8, 8 + len)) });
      buf = buf.subarray(8 + len);
    }
    wake?.();
  });
  const next = async (guardMs = 30_000) => {
    const deadline = Date.now() + guardMs;
    for (;;) {
      const r = queue.shift();
      if (r) return r;
      if (child.exitCode !== null) throw new Error(`bridge exited ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no record from the bridge (hang guard): ${stderr}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 500);
        wake = () => {
          clearTimeout(t);
          res();
        };
      });
    }
  };
  const send = (kind: number, payload: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(payload.length, 0);
    h.writeUInt16LE(kind, 4);
    child.stdin.write(Buffer.concat([h, payload]));
  };
  return { child, next, send, close: () => child.kill('SIGKILL') };
}

function parseReady(p: Buffer) {
  const n = p.readUInt32LE(12);
  const fams = [];
  let off = 16;
  for (let i = 0; i < n; i++) {
    const name = p.toString('latin1', off, off + 16).replace(/\0.*$/s, '');
    const errno = p.readInt32LE(off + 16);
    const id = p.readUInt16LE(off + 20);
    const ng = p.readUInt16LE(off + 22);
    off += 24;
    const groups = new Map<string, number>();
    for (let g = 0; g < ng; g++, off += 20) groups.set(p.toString('latin1', off + 4, off + 20).replace(/\0.*$/s, ''), p.readUInt32LE(off));
    fams.push({ name, errno, id, groups });
  }
  return fams;
}

const str = (b: Buffer | undefined) => b?.toString('latin1').replace(/\0.*$/s, '');
const attrOf = (m: Msg, t: number) => attrs(m.payload.subarray(4)).find((a) => a.type === t)?.value;

test('READY resolves batadv with its config and tpmeter groups; GET_MESH answers; a batctl change arrives on config', async () => {
  const b = startBridge();
  try {
    const ready = await b.next();
    assert.is(ready.kind, Rec.READY);
    const [fam] = parseReady(ready.payload);
    assert.is(fam!.name, 'batadv');
    assert.is(fam!.errno, 0, 'batadv resolved');
    assert.ok(fam!.id >= 0x10, `family id ${fam!.id}`);
    assert.equal([...fam!.groups.keys()].sort(), ['config', 'tpmeter']);

    const ifindex = (JSON.parse(ip('-n', node.netns, '-j', 'link', 'show', 'bat0')) as Array<{ ifindex: number }>)[0]!.ifindex;
    b.send(Rec.NL, genlmsg(fam!.id, BATADV_CMD_GET_MESH, NLM_F_REQUEST, 7, [attr(ATTR.MESH_IFINDEX, u32(ifindex))]));
    const reply = await b.next();
    assert.is(reply.kind, Rec.NL);
    const [m] = messages(reply.payload);
    assert.is(m!.type, fam!.id, `reply type ${m!.type}`);
    assert.is(m!.seq, 7);
    assert.is(m!.payload[0], BATADV_CMD_GET_MESH);
    assert.is(str(attrOf(m!, ATTR.MESH_IFNAME)), 'bat0');
    assert.is(str(attrOf(m!, ATTR.ALGO_NAME)), mesh.algo);
    assert.is(attrOf(m!, ATTR.MESH_IFINDEX)?.readUInt32LE(0), ifindex);

    const group = fam!.groups.get('config')!;
    b.send(Rec.JOIN, u32(group));
    const joined = await b.next();
    assert.is(joined.kind, Rec.RESULT);
    assert.is(joined.payload.readInt32LE(8), 0, 'JOIN config succeeded');
    batctl(node.netns, 'hop_penalty', '33');
    let event: Msg | undefined;
    while (!event) {
      const r = await b.next();
      if (r.kind !== Rec.NL) continue;
      event = messages(r.payload).find((x) => x.payload[0] === BATADV_CMD_SET_MESH);
    }
    assert.is(event.seq, 0);
    assert.is(event.pid, 0);
    assert.is(attrOf(event, ATTR.HOP_PENALTY)?.[0], 33);
    assert.is(str(attrOf(event, ATTR.MESH_IFNAME)), 'bat0');
  } finally {
    b.close();
    batctl(node.netns, 'hop_penalty', '30');
  }
});

test.run();
