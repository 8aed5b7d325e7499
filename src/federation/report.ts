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
    fleet: { nodes: fed.fleet.nodes(), quarantined: fed.fleet.quarantined(), settings: fed.fleet.settings(), digest: fed.fleet.digest() },
    // Without the per-peer list (the peers above are what counts; this is for debugging discovery).
    discovery: discoverySummary(fed),
    metrics: fed.metrics(),
  };
}

function discoverySummary(fed: Federation) {
  const d = fed.discovery();
  if (!d) return null;
  const { peers, ...rest } = d;
  return { ...rest, peersKnown: peers.length };
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
  m.add(`${p}peer_exchange_dials_total`, 'counter', 'dials to peers named in the signed fleet registry', x.peerExchangeDials);
  const d = fed.discovery();
  if (d) {
    m.add(`${p}mdns_up`, 'gauge', 'mDNS discovery joined on its interface (1) or not (0)', d.state === 'running' ? 1 : 0, { interface: d.ifname });
    m.add(`${p}mdns_queries_total`, 'counter', 'mDNS queries sent on the mesh interface', d.queriesSent);
    m.add(`${p}mdns_answers_total`, 'counter', 'mDNS answers sent on the mesh interface', d.answersSent);
    m.add(`${p}mdns_peers_found_total`, 'counter', 'peers discovered by mDNS', d.peersFound);
    for (const [reason, n] of Object.entries(d.ignored)) m.add(`${p}mdns_ignored_total`, 'counter', 'mDNS packets not acted on, by reason', n, { reason });
  }
  for (const peer of fed.peers()) if (peer.rttMs !== null) m.add(`${p}peer_rtt_ms`, 'gauge', 'libp2p ping round trip', peer.rttMs, { peer: peer.peerId, name: peer.name });
}
