// Node 18 (OpenWrt 23.05's node on MT7621 routers) lacks two browser globals that libp2p uses:
// CustomEvent (its event emitters; without it federation cannot start) and crypto with
// getRandomValues (libp2p's ping; without it pings fail and connections are dropped). Import
// this before any libp2p module is evaluated; each shim is installed only where the global is
// missing, so Node 20 keeps its own.
import { webcrypto } from 'node:crypto';

const g = globalThis as unknown as { CustomEvent?: unknown; crypto?: { getRandomValues?: unknown } };

if (typeof g.CustomEvent !== 'function') {
  class CustomEventShim<T = unknown> extends Event {
    readonly detail: T;
    constructor(type: string, init?: { bubbles?: boolean; cancelable?: boolean; composed?: boolean; detail?: T }) {
      super(type, init);
      this.detail = (init?.detail ?? null) as T;
    }
  }
  g.CustomEvent = CustomEventShim;
}

if (typeof g.crypto?.getRandomValues !== 'function') {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true, enumerable: false, writable: true });
}

export {};
