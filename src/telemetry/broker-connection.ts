// One connection attempt to the broker: URL and security policy, TLS material read fresh from
// disk (a renewed certificate is used at the next reconnect), and an MQTT.js client over our own
// node:net / node:tls socket. Using MQTT.js's client class directly instead of its connect()
// keeps its WebSocket and SOCKS transports out of the bundle (about 135 KB); mqtt:// and
// mqtts:// are what routers use.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { createSecureContext, connect as tlsConnect } from 'node:tls';
import clientModule from 'mqtt/lib/client';
import type { IClientOptions } from 'mqtt/lib/client';
import { redactUrl } from '../config/redact-url.ts';
import { readRegularFile } from '../flash/safe-read.ts';

const MqttClient = clientModule.default;
export type MqttClient = InstanceType<typeof MqttClient>;

export class BrokerConfigError extends Error {
  override readonly name = 'BrokerConfigError';
  /** True when retrying cannot help (the configuration itself is wrong). */
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface BrokerTarget {
  protocol: 'mqtt' | 'mqtts';
  host: string;
  port: number;
  loopback: boolean;
  /** For messages: the URL without anything secret. */
  display: string;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function parseBrokerUrl(url: string, allowPlaintext = false): BrokerTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BrokerConfigError(`broker '${redactUrl(url)}' is not a URL (expected mqtts://host[:port])`, true);
  }
  const protocol = u.protocol.slice(0, -1);
  if (protocol === 'ws' || protocol === 'wss')
    throw new BrokerConfigError(`${protocol}:// brokers are not supported by this build; use mqtts:// (or mqtt:// on loopback)`, true);
  if (protocol !== 'mqtt' && protocol !== 'mqtts') throw new BrokerConfigError(`broker '${redactUrl(url)}': scheme must be mqtt:// or mqtts://`, true);
  if (u.username || u.password) throw new BrokerConfigError('put the broker credentials in username/password, not in the URL', true);
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) throw new BrokerConfigError(`broker '${redactUrl(url)}': no path or query expected`, true);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new BrokerConfigError(`broker '${redactUrl(url)}' has no host`, true);
  const port = u.port ? Number(u.port) : protocol === 'mqtts' ? 8883 : 1883;
  const loopback = isLoopback(host);
  if (protocol === 'mqtt' && !loopback && !allowPlaintext)
    throw new BrokerConfigError(`refusing plaintext MQTT to ${host}: use mqtts:// (TLS), or allow plaintext explicitly for a trusted network`, true);
  return { protocol, host, port, loopback, display: `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}` };
}

export interface Will {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
}

export interface ConnectSettings {
  broker: string;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM file of the CA(s) that signed the broker's certificate; default: Node's built-in roots. */
  caFile?: string;
  /** Client certificate and key for mutual TLS. */
  certFile?: string;
  keyFile?: string;
  allowPlaintext?: boolean;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  will?: Will;
  /** false: a persistent session (the broker keeps subscriptions and QoS 1 messages for this clientId). Default true. */
  clean?: boolean;
}

export interface OpenedClient {
  client: MqttClient;
  target: BrokerTarget;
  /** "TLS, client certificate, user ops" and the like, for status lines. */
  security: string;
}

/** A CA bundle, certificate chain or key in PEM; anything larger is not one. */
export const MAX_PEM_BYTES = 1024 * 1024;

function readPem(path: string, what: string): Buffer {
  let pem: Buffer | null;
  try {
    // Regular files only, bounded: a FIFO or a device here must not block or fill memory.
    pem = readRegularFile(path, { maxBytes: MAX_PEM_BYTES });
  } catch (e) {
    throw new BrokerConfigError(`cannot read ${what} ${(e as Error).message}`, false);
  }
  if (pem === null) throw new BrokerConfigError(`cannot read ${what} ${path}: ENOENT`, false);
  return pem;
}

/**
 * Any file can be named as ca/cert/key: one that is not PEM (or a key that does not match its
 * certificate) is a one-line reason here, not an exception thrown inside the connect.
 */
function checkTlsFiles(tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }, s: ConnectSettings): void {
  const check = (what: string, o: Parameters<typeof createSecureContext>[0]) => {
    try {
      createSecureContext(o);
    } catch (e) {
      throw new BrokerConfigError(`${what}: ${(e as Error).message.replace(/^error:[0-9A-F]+:/, '')}`, false);
    }
  };
  // Node skips what is not a certificate in `ca` without a word: say it, instead of failing later as "untrusted".
  if (tls.ca && !tls.ca.includes('-----BEGIN CERTIFICATE-----')) throw new BrokerConfigError(`ca_file ${s.caFile}: no PEM certificate in it`, false);
  if (tls.ca) check(`ca_file ${s.caFile}`, { ca: tls.ca });
  if (tls.cert && tls.key) {
    check(`cert_file ${s.certFile}`, { cert: tls.cert });
    check(`key_file ${s.keyFile}`, { key: tls.key });
    check(`cert_file ${s.certFile} with key_file ${s.keyFile}`, { cert: tls.cert, key: tls.key });
  }
}

/** Starts connecting; the caller listens for connect/error/close. Throws BrokerConfigError before any I/O. */
export function openBrokerClient(s: ConnectSettings): OpenedClient {
  const target = parseBrokerUrl(s.broker, s.allowPlaintext);
  if (!!s.certFile !== !!s.keyFile) throw new BrokerConfigError('a client certificate needs both cert_file and key_file', true);
  if (s.certFile && target.protocol !== 'mqtts') throw new BrokerConfigError('a client certificate needs an mqtts:// broker', true);
  if (s.caFile && target.protocol !== 'mqtts') throw new BrokerConfigError('ca_file is set but the broker URL is not mqtts://', true);
  const tls =
    target.protocol === 'mqtts'
      ? {
          ca: s.caFile ? readPem(s.caFile, 'ca_file') : undefined,
          cert: s.certFile ? readPem(s.certFile, 'cert_file') : undefined,
          key: s.keyFile ? readPem(s.keyFile, 'key_file') : undefined,
        }
      : null;
  if (tls) checkTlsFiles(tls, s);
  const security = [
    tls ? 'TLS' : 'plaintext',
    ...(tls?.cert ? ['client certificate'] : []),
    ...(s.username ? [`user ${s.username}`] : []),
  ].join(', ');

  const streamBuilder = (): Socket => {
    if (!tls) return netConnect({ host: target.host, port: target.port });
    // Certificate verification is always on: there is deliberately no option to turn it off.
    return tlsConnect({
      host: target.host,
      port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      ...tls,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
  };
  const options: IClientOptions = {
    clientId: s.clientId,
    protocolVersion: 4,
    clean: s.clean ?? true,
    keepalive: s.keepaliveS ?? 30,
    // Reconnects are ours (jittered backoff, fresh client, files re-read), never MQTT.js's.
    reconnectPeriod: 0,
    connectTimeout: s.connectTimeoutMs ?? 15_000,
    resubscribe: false,
    queueQoSZero: false,
    timerVariant: 'native',
    // mqtt-packet would otherwise build a cache of 65,536 two-byte packet-id Buffers on the first
    // write (about 7 MB of private memory); we publish a few messages a minute.
    writeCache: false,
    ...(s.username ? { username: s.username } : {}),
    ...(s.password ? { password: s.password } : {}),
    ...(s.will ? { will: { topic: s.will.topic, payload: Buffer.from(s.will.payload), qos: s.will.qos, retain: s.will.retain } } : {}),
  };
  const client = new MqttClient(streamBuilder as never, options);
  return { client, target, security };
}
