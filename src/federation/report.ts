// What the federation shows outside: the /status `federation` document and its Prometheus
// metrics (added to the status room's MetricsText), so the wiring is one call each.
import type { MetricsText } from '../status/metrics.ts';
import type { Federation } from './types.ts';

export function federationStatus(fed: Federation) {
  return {
    peerId: fed.peerId,
    addresses: fed.addresses(),
    health: fed.health(),
    peers: fed.peers(),
    fleet: { nodes: fed.fleet.nodes(), quarantined: fed.fleet.quarantined(), digest: fed.fleet.digest() },
    metrics: fed.metrics(),
  };
}

export function addFederationMetrics(m: MetricsText, fed: Federation): void {
  const x = fed.metrics();
  const p = 'x0tta6bl4_federation_';
  m.add(`${p}peers_connected`, 'gauge', 'libp2p peers connected', x.connectedPeers);
  m.add(`${p}peers_admitted`, 'gauge', 'peers whose fleet certificate verified', x.admittedPeers);
  m.add(`${p}admissions_total`, 'counter', 'peers admitted', x.admissionsAccepted);
  for (const [reason, n] of Object.entries(x.admissionsRejected)) m.add(`${p}admissions_rejected_total`, 'counter', 'peers refused admission, by reason', n, { reason });
  m.add(`${p}messages_published_total`, 'counter', 'signed messages published', x.messagesPublished);
  m.add(`${p}messages_accepted_total`, 'counter', 'messages that passed every check', x.messagesAccepted);
  for (const [reason, n] of Object.entries(x.messagesDropped)) m.add(`${p}messages_dropped_total`, 'counter', 'messages dropped, by reason', n, { reason });
  m.add(`${p}revoked_disconnects_total`, 'counter', 'admitted peers cut off by a new CRL', x.revokedDisconnects);
  m.add(`${p}state_entries`, 'gauge', 'entries in the replicated fleet state', x.stateEntries);
  m.add(`${p}state_merges_total`, 'counter', 'fleet state entries merged', x.stateMerges);
  m.add(`${p}state_rejected_total`, 'counter', 'fleet state entries refused', x.stateRejected);
  m.add(`${p}quarantined_peers`, 'gauge', 'peers quarantined by a quorum of votes', x.quarantinedPeers);
  for (const peer of fed.peers()) if (peer.rttMs !== null) m.add(`${p}peer_rtt_ms`, 'gauge', 'libp2p ping round trip', peer.rttMs, { peer: peer.peerId, name: peer.name });
}
