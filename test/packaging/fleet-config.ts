// The UCI config of one bundle-run fleet node for the bundle tests (Node 20 and Node 18): the
// simulator, no healing, federation on 127.0.0.1 with a static peer for the second node.
import { join } from 'node:path';

export function fleetNodeConfig(n: { name: string; dir: string; port: number }, peer: string | null, extraSections: string[] = []): string {
  const peers = peer ? `\tlist peer '${peer}'\n` : '';
  return (
    [
      `config agent 'agent'\n\toption node_name '${n.name}'\n\toption fleet 'lab'\n\toption mesh_driver 'simulator'\n\toption state_dir '${n.dir}'`,
      `config status 'status'\n\toption socket '${join(n.dir, 'status.sock')}'`,
      `config healing 'healing'\n\toption enabled '0'`,
      ...extraSections,
      `config federation 'federation'\n\toption enabled '1'\n\toption mdns '0'\n\tlist listen '/ip4/127.0.0.1/tcp/${n.port}'\n${peers}`,
      `config simulator 'simulator'\n\toption nodes '3'`,
    ].join('\n\n') + '\n'
  );
}
