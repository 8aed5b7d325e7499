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
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      setTimeout(() => reject(new Error(`subscriber could not connect to ${url}`)), 10_000).unref();
    });
    await client.subscribeAsync(topics, { qos: 1 });
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
    await this.client.endAsync(true);
  }
}

export async function until(pred: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
