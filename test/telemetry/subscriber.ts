// The operator's side in tests: an MQTT.js client (its stock connect(), a different code path
// from the agent's own connection) that records every message it receives.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
  qos: number;
}

export class Subscriber {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, text: payload.toString('utf8'), retain: packet.retain, qos: packet.qos }));
  }

  static async connect(url: string, topics: string[], opts: IClientOptions = {}): Promise<Subscriber> {
    const client = connect(url, { reconnectPeriod: 200, connectTimeout: 5000, ...opts });
    client.on('error', () => {});
    const s = new Subscriber(client);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`subscriber could not connect to ${url}`)), 10_000);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await withTimeout(client.subscribeAsync(topics, { qos: 1 }), 10_000, `subscribing to ${topics.join(', ')}`);
    } catch (e) {
      // A client left reconnecting would keep the test process alive forever.
      client.end(true);
      throw e;
    }
    return s;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  json<T = Record<string, unknown>>(topic: string): T[] {
    return this.on(topic).map((m) => JSON.parse(m.text) as T);
  }

  /** Waits until `pred` holds (a wait, not an assertion on speed: the limit only ends a hung test). */
  async until(pred: () => boolean, what: string, limitMs = 20_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await withTimeout(this.client.endAsync(true), 5000, 'closing the subscriber').catch(() => {});
  }
}

export async function until(pred: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects when `p` has not settled within `ms`: every wait in these tests ends. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Called from test.after: if anything (a client, a broker, a timer) is still holding the event
 * loop a few seconds after the last test, say so and exit, instead of hanging the test run.
 */
export function exitIfStuck(file: string, graceMs = 5000): void {
  setTimeout(() => {
    process.stderr.write(`${file}: handles still open ${graceMs} ms after the last test; exiting\n`);
    process.exit(process.exitCode ?? 1);
  }, graceMs).unref();
}
