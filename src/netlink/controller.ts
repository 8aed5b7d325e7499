// Generic netlink family resolution through the controller (nlctrl): a family's numeric id,
// version and multicast group ids, by name. CTRL_CMD_GETFAMILY answers -ENOENT when the
// family is not registered (for batadv: the batman-adv module is not loaded).
import { AttrWriter } from './attributes.ts';
import { decodeAttrs, encodeAttrs, requireAttrs, type AttrTable } from './attr-schema.ts';
import { NetlinkDecodeError } from './errors.ts';
import { decodeGenl, encodeGenlPayload } from './genl.ts';
import type { NetlinkRequester } from './requester.ts';

export const GENL_ID_CTRL = 0x10;
export const CtrlCmd = { NEWFAMILY: 1, GETFAMILY: 3 } as const;

const CTRL_OP_ATTRS = {
  id: { id: 1, kind: 'u32' },
  flags: { id: 2, kind: 'u32' },
} as const satisfies AttrTable;

const CTRL_MCAST_GROUP_ATTRS = {
  name: { id: 1, kind: 'string' },
  id: { id: 2, kind: 'u32' },
} as const satisfies AttrTable;

export const CTRL_ATTRS = {
  familyId: { id: 1, kind: 'u16' },
  familyName: { id: 2, kind: 'string' },
  version: { id: 3, kind: 'u32' },
  hdrSize: { id: 4, kind: 'u32' },
  maxAttr: { id: 5, kind: 'u32' },
  ops: { id: 6, kind: 'nested-list', table: CTRL_OP_ATTRS },
  mcastGroups: { id: 7, kind: 'nested-list', table: CTRL_MCAST_GROUP_ATTRS },
} as const satisfies AttrTable;

export interface GenlFamily {
  name: string;
  id: number;
  version: number;
  hdrSize: number;
  maxAttr: number;
  /** Multicast group ids by name (ids are global and can exceed 32). */
  groups: ReadonlyMap<string, number>;
  /** Command numbers the family implements. */
  commands: ReadonlySet<number>;
}

export function encodeGetFamily(name: string): Uint8Array {
  return encodeGenlPayload(CtrlCmd.GETFAMILY, 1, encodeAttrs(CTRL_ATTRS, { familyName: name }, new AttrWriter()).finish());
}

/** Decodes a CTRL_CMD_NEWFAMILY reply. */
export function decodeFamily(payloadAttrs: Uint8Array): GenlFamily {
  const a = requireAttrs(decodeAttrs(CTRL_ATTRS, payloadAttrs), ['familyId', 'familyName'], 'CTRL_CMD_NEWFAMILY');
  const groups = new Map<string, number>();
  for (const g of a.mcastGroups ?? []) if (g.name !== undefined && g.id !== undefined) groups.set(g.name, g.id);
  const commands = new Set<number>();
  for (const op of a.ops ?? []) if (op.id !== undefined) commands.add(op.id);
  return {
    name: a.familyName,
    id: a.familyId,
    version: a.version ?? 1,
    hdrSize: a.hdrSize ?? 0,
    maxAttr: a.maxAttr ?? 0,
    groups,
    commands,
  };
}

export async function resolveFamily(requester: NetlinkRequester, name: string): Promise<GenlFamily> {
  const replies = await requester.request(GENL_ID_CTRL, encodeGetFamily(name), `CTRL_CMD_GETFAMILY ${name}`);
  for (const m of replies) {
    if (m.type !== GENL_ID_CTRL) continue;
    const g = decodeGenl(m);
    if (g.cmd !== CtrlCmd.NEWFAMILY) continue;
    const family = decodeFamily(g.attrs);
    if (family.name !== name) throw new NetlinkDecodeError(`asked for family ${name}, controller answered ${family.name}`, 0);
    return family;
  }
  throw new NetlinkDecodeError(`CTRL_CMD_GETFAMILY ${name}: acknowledged without a family`, 0);
}
