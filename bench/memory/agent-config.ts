// The UCI file of the measured agent: the simulated mesh (no batman-adv on the host), healing as
// shipped, federation and telemetry on or off per configuration.
import { join } from 'node:path';

export interface AgentShape {
  dir: string;
  fleet: string;
  trustDomain: string;
  federation: { port: number; host?: string } | null;
  /** allowPlaintext: mqtt:// to a broker off loopback (the guest's broker is on the host). */
  telemetry: { broker: string; allowPlaintext?: boolean } | null;
}

export function agentConfig(a: AgentShape): string {
  const sections = [
    `config agent 'agent'\n\toption node_name 'measured'\n\toption fleet '${a.fleet}'\n\toption mesh_driver 'simulator'\n\toption state_dir '${a.dir}'`,
    `config status 'status'\n\toption socket '${join(a.dir, 'status.sock')}'`,
    `config simulator 'simulator'\n\toption nodes '6'`,
  ];
  if (a.federation)
    sections.push(
      `config federation 'federation'\n\toption enabled '1'\n\toption mdns '0'\n\toption trust_domain '${a.trustDomain}'\n\tlist listen '/ip4/${a.federation.host ?? '127.0.0.1'}/tcp/${a.federation.port}'`,
    );
  if (a.telemetry)
    sections.push(`config telemetry 'telemetry'\n\toption enabled '1'\n\toption broker '${a.telemetry.broker}'${a.telemetry.allowPlaintext ? "\n\toption allow_plaintext '1'" : ''}`);
  return sections.join('\n\n') + '\n';
}
