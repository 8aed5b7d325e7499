// The value types of config options: each turns the UCI string into a typed value or says
// what it expected, and turns the value back into the string `uci` stores.
import { IFNAME_EXPECTED, isIfname } from './ifname.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface OptionType<T> {
  /** What a valid value looks like, for error messages: "an integer from 0 to 60". */
  readonly expected: string;
  parse(raw: string): Parsed<T>;
  format(value: T): string;
  /** Never echo the value in messages (passwords). */
  readonly secret?: boolean;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const CONTROL = /[\x00-\x1f\x7f]/;

function make<T>(expected: string, parse: (raw: string) => T | undefined, format: (v: T) => string = String): OptionType<T> {
  return {
    expected,
    parse: (raw) => {
      const v = parse(raw);
      return v === undefined ? { ok: false, expected } : ok(v);
    },
    format,
  };
}

// The words OpenWrt's config_get_bool accepts, and only those, with the same case: a value
// the init script reads differently from the agent would be a silent disagreement.
const TRUE = new Set(['1', 'on', 'true', 'yes', 'enabled']);
const FALSE = new Set(['0', 'off', 'false', 'no', 'disabled']);

export const bool: OptionType<boolean> = make(
  'a boolean: 1/on/true/yes/enabled or 0/off/false/no/disabled',
  (raw) => (TRUE.has(raw) ? true : FALSE.has(raw) ? false : undefined),
  (v) => (v ? '1' : '0'),
);

export function integer(min: number, max: number): OptionType<number> {
  return make(`an integer from ${min} to ${max}`, (raw) => {
    if (!/^-?\d{1,16}$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  });
}

/** Seconds, decimals allowed ("0.5"); no unit suffix, since other UCI readers would not know it. */
export function seconds(min: number, max: number): OptionType<number> {
  return make(`a number of seconds from ${min} to ${max}`, (raw) => {
    if (!/^\d{1,12}(\.\d{1,9})?$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  });
}

/** A plain decimal number ("0.9"); no exponent, so every UCI reader agrees on it. */
export function decimal(min: number, max: number): OptionType<number> {
  return make(`a number from ${min} to ${max}`, (raw) => {
    if (!/^\d{1,12}(\.\d{1,9})?$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  });
}

export function oneOf<const V extends readonly string[]>(values: V): OptionType<V[number]> {
  const set = new Set<string>(values);
  return make(`one of ${values.join(', ')}`, (raw) => (set.has(raw) ? (raw as V[number]) : undefined));
}

/** Free text on one line: no control characters. */
export function text(maxLength: number, opts: { secret?: boolean } = {}): OptionType<string> {
  const t = make(`text of at most ${maxLength} characters without control characters`, (raw) =>
    raw.length <= maxLength && !CONTROL.test(raw) ? raw : undefined,
  );
  return opts.secret ? { ...t, secret: true } : t;
}

export function matching(pattern: RegExp, expected: string): OptionType<string> {
  return make(expected, (raw) => (pattern.test(raw) ? raw : undefined));
}

/** A Linux interface name as the kernel's dev_valid_name accepts it, without invisible characters. */
export const ifname: OptionType<string> = make(IFNAME_EXPECTED, (raw) => (isIfname(raw) ? raw : undefined));

export function absolutePath(opts: { maxBytes?: number; optional?: boolean } = {}): OptionType<string> {
  const maxBytes = opts.maxBytes ?? 4095;
  const what = `an absolute path (starting with '/', at most ${maxBytes} bytes)`;
  return make(opts.optional ? `${what}, or empty` : what, (raw) => {
    if (raw === '') return opts.optional ? raw : undefined;
    return raw.startsWith('/') && Buffer.byteLength(raw) <= maxBytes && !CONTROL.test(raw) ? raw : undefined;
  });
}

/** WHATWG URL parsing without the throw: undefined for anything it refuses. */
function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

const MQTT_SCHEMES = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);

/** An MQTT broker URL, or '' for "not set" (whether one is required is a cross-field check). */
export const mqttUrl: OptionType<string> = make('an MQTT URL (mqtt://, mqtts://, ws:// or wss://host[:port]), or empty', (raw) => {
  if (raw === '') return raw;
  const url = parseUrl(raw);
  return url && MQTT_SCHEMES.has(url.protocol) && url.hostname !== '' && !/\s/.test(raw) ? raw : undefined;
});

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MULTIADDR_START = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr']);

/**
 * A libp2p multiaddr, checked lightly: /ip4|ip6|dns|dns4|dns6|dnsaddr/<host>/..., no empty
 * parts, a valid IPv4 address and tcp/udp port where given. libp2p itself checks the rest.
 */
export const multiaddr: OptionType<string> = make(
  'a multiaddr such as /ip4/0.0.0.0/tcp/4001 (starting with /ip4/, /ip6/, /dns/, /dns4/, /dns6/ or /dnsaddr/)',
  (raw) => {
    if (!raw.startsWith('/') || /\s/.test(raw) || CONTROL.test(raw)) return undefined;
    const parts = raw.slice(1).split('/');
    if (parts.length < 2 || parts.some((p) => p === '') || !MULTIADDR_START.has(parts[0]!)) return undefined;
    if (parts[0] === 'ip4' && !IPV4.test(parts[1]!)) return undefined;
    if (parts[0] === 'ip6' && !/^[0-9A-Fa-f:.]+$/.test(parts[1]!)) return undefined;
    for (let i = 2; i < parts.length; i++) {
      if ((parts[i] === 'tcp' || parts[i] === 'udp') && !/^\d{1,5}$/.test(parts[i + 1] ?? '') ) return undefined;
      if ((parts[i] === 'tcp' || parts[i] === 'udp') && Number(parts[i + 1]) > 65535) return undefined;
    }
    return raw;
  },
);

/**
 * An OTLP/HTTP endpoint: http(s)://host[:port][/path], or '' for "not set". Credentials in the
 * URL are refused (they would show in logs and /health): a `header` carries them instead.
 */
export const httpUrl: OptionType<string> = make('an http:// or https:// URL without user:password@ (credentials go in a header), or empty', (raw) => {
  if (raw === '') return raw;
  const url = parseUrl(raw);
  if (!url) return undefined;
  const ok = (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
  return ok && !/\s/.test(raw) && !CONTROL.test(raw) ? raw : undefined;
});

// RFC 9110 token characters; the headers the exporter sets itself may not be replaced.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection', 'user-agent']);

/** `Name: value`, one HTTP request header (values are often API keys: never echoed). */
export const httpHeader: OptionType<string> = {
  ...make("a header as 'Name: value' (token characters in the name, not Content-Type, Content-Length, Host, Transfer-Encoding, Connection or User-Agent; at most 4096 characters, no control characters)", (raw) => {
    const colon = raw.indexOf(':');
    if (colon <= 0 || raw.length > 4096 || CONTROL.test(raw)) return undefined;
    const name = raw.slice(0, colon).trim();
    return HEADER_NAME.test(name) && !RESERVED_HEADERS.has(name.toLowerCase()) ? raw : undefined;
  }),
  secret: true,
};
