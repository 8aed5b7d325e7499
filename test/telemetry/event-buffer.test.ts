// The store-and-forward parts without a broker: the bounded event queue (PUBACK-based removal,
// resend in order after a lost connection, oldest dropped and counted), its copy on flash
// (atomic, batched, rate-limited, removed when empty, corruption tolerated), and the jittered
// reconnect backoff.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff } from '../../src/telemetry/backoff.ts';
import { EventQueue } from '../../src/telemetry/event-queue.ts';
import { loadQueueFile, QueueFile, QueueFileError } from '../../src/telemetry/queue-file.ts';
import { until } from './subscriber.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-evbuf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const ev = (seq: number) => JSON.stringify({ v: 1, seq, message: `e${seq}` });
const seqs = (q: EventQueue) => q.payloads().map((p) => (JSON.parse(p) as { seq: number }).seq);

test('events leave the queue only when acknowledged; a lost connection resends them in order', () => {
  const q = new EventQueue(10);
  for (let i = 1; i <= 5; i++) q.push(ev(i));
  const a = q.takeUnsent()!;
  const b = q.takeUnsent()!;
  const c = q.takeUnsent()!;
  assert.is(q.inFlight, 3);
  q.ack(b); // PUBACKs may come in any order
  assert.equal(seqs(q), [1, 3, 4, 5]);
  assert.is(q.inFlight, 2);
  q.rewind(); // connection lost: 1 and 3 were never acknowledged
  assert.is(q.inFlight, 0);
  const resent = [q.takeUnsent()!, q.takeUnsent()!, q.takeUnsent()!, q.takeUnsent()!];
  assert.equal(resent.map((e) => (JSON.parse(e.payload) as { seq: number }).seq), [1, 3, 4, 5]);
  assert.is(q.takeUnsent(), undefined);
  q.ack(a);
  q.ack(a); // a duplicate PUBACK changes nothing
  q.ack(c);
  assert.is(q.acked, 2 + 1);
  assert.equal(seqs(q), [4, 5]);
});

test('at the bound the oldest event is dropped and counted, also while it is in flight', () => {
  const q = new EventQueue(3);
  for (let i = 1; i <= 3; i++) q.push(ev(i));
  const first = q.takeUnsent()!;
  q.push(ev(4)); // drops 1, which was in flight
  assert.is(q.dropped, 1);
  assert.is(q.inFlight, 0);
  q.ack(first); // its late PUBACK is ignored
  assert.is(q.acked, 0);
  for (let i = 5; i <= 10; i++) q.push(ev(i));
  assert.equal(seqs(q), [8, 9, 10]);
  assert.is(q.dropped, 7);
  assert.throws(() => new EventQueue(0), /positive integer/);
});

test('the flash copy: atomic rewrite, batched and rate-limited, removed when empty', async () => {
  const path = join(dir, 'buf');
  let payloads: string[] = [];
  const errors: string[] = [];
  const readAt: number[] = []; // the queue is read exactly when a write happens
  const f = new QueueFile({ path, minIntervalMs: 300, payloads: () => (readAt.push(Date.now()), payloads), onError: (m) => errors.push(m) });
  payloads = [ev(1)];
  for (let i = 0; i < 50; i++) f.markDirty(); // many changes, one pending write
  assert.is(f.writes, 0, 'nothing written synchronously');
  await until(() => f.writes >= 1, 'the batched write');
  assert.is(f.writes, 1);
  payloads = [ev(1), ev(2)];
  f.markDirty();
  f.markDirty();
  await until(() => f.writes >= 2, 'the second batched write');
  assert.is(f.writes, 2, 'two changes, one write');
  assert.is(readAt.length, 2);
  assert.ok(readAt[1]! - readAt[0]! >= 290, `rate limit: ${readAt[1]! - readAt[0]!} ms between writes`);
  assert.equal(loadQueueFile(path, 100).payloads, [ev(1), ev(2)]);
  assert.equal(readdirSync(dir).filter((n) => n.includes('.tmp')), [], 'no temporary file left behind');
  f.flushNow();
  assert.is(f.writes, 2, 'unchanged content is not written again');
  payloads = [];
  f.flushNow();
  assert.not.ok(existsSync(path), 'an empty queue leaves no file');
  f.close();
  assert.equal(errors, []);
});

test('loading: corrupt lines skipped, beyond the limit the oldest dropped, a foreign file refused', () => {
  const path = join(dir, 'load');
  const f = new QueueFile({ path, minIntervalMs: 1000, payloads: () => [ev(1), ev(2), ev(3), ev(4)], onError: () => {} });
  f.flushNow();
  writeFileSync(path, readFileSync(path, 'utf8') + 'garbage\n{"no":"seq"}\n' + ev(5) + '\n');
  const l = loadQueueFile(path, 3);
  assert.equal(l.payloads, [ev(3), ev(4), ev(5)]);
  assert.is(l.skipped, 2);
  assert.is(l.dropped, 2);
  assert.equal(loadQueueFile(join(dir, 'missing'), 10), { payloads: [], skipped: 0, dropped: 0 });
  writeFileSync(join(dir, 'foreign'), 'root:x:0:0\n');
  assert.throws(() => loadQueueFile(join(dir, 'foreign'), 10), (e: unknown) => e instanceof QueueFileError && /not an event buffer/.test((e as Error).message));
});

test('a file the agent did not write is never replaced or deleted, even if it appears later', () => {
  const path = join(dir, 'appears-later');
  let payloads = [ev(1)];
  const errors: [string, boolean][] = [];
  const f = new QueueFile({ path, minIntervalMs: 1000, payloads: () => payloads, onError: (m, foreign) => errors.push([m, foreign]) });
  const passwd = 'root:x:0:0:root:/root:/bin/sh\n';
  writeFileSync(path, passwd);
  f.flushNow(); // the outage: the queue would be written here
  assert.is(readFileSync(path, 'utf8'), passwd, 'not replaced');
  payloads = [];
  f.flushNow(); // the broker is back: the queue is empty, the file would be removed here
  assert.is(readFileSync(path, 'utf8'), passwd, 'not deleted');
  assert.ok(errors.length >= 1);
  assert.ok(errors.every(([m, foreign]) => foreign && m.includes(path)), JSON.stringify(errors));
  assert.equal(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
});

test('a FIFO, a device, a directory or a symlink at the path: refused at once, left as it is', () => {
  const decoy = join(dir, 'decoy');
  writeFileSync(decoy, 'decoy');
  const kinds: Record<string, () => void> = {
    fifo: () => execFileSync('mkfifo', [join(dir, 'fifo')]),
    zero: () => execFileSync('mknod', [join(dir, 'zero'), 'c', '1', '5']),
    sub: () => mkdirSync(join(dir, 'sub')),
    link: () => symlinkSync(decoy, join(dir, 'link')),
  };
  for (const [name, make] of Object.entries(kinds)) {
    make();
    const path = join(dir, name);
    assert.throws(() => loadQueueFile(path, 10), (e: unknown) => e instanceof QueueFileError && (e as Error).message.startsWith(path), name);
    const errors: string[] = [];
    const f = new QueueFile({ path, minIntervalMs: 1000, payloads: () => [ev(1)], onError: (m) => errors.push(m) });
    f.flushNow();
    assert.is(errors.length, 1, name);
  }
  assert.is(readFileSync(decoy, 'utf8'), 'decoy');
  assert.ok(lstatSync(join(dir, 'link')).isSymbolicLink());
  assert.ok(lstatSync(join(dir, 'fifo')).isFIFO());
  assert.ok(lstatSync(join(dir, 'zero')).isCharacterDevice());
});

test('a write that fails is counted and reported, not thrown', () => {
  const errors: string[] = [];
  const f = new QueueFile({ path: join(dir, 'no-such-dir', 'buf'), minIntervalMs: 1000, payloads: () => [ev(1)], onError: (m) => errors.push(m) });
  f.flushNow();
  assert.is(f.errors, 1);
  assert.match(errors[0]!, /cannot write event buffer .*ENOENT/);
});

test('backoff: exponential with equal jitter, capped, never zero, reset after a good connection', () => {
  const lo = new Backoff({ minMs: 1000, maxMs: 8000, random: () => 0 });
  assert.equal([1, 2, 3, 4, 5, 6].map(() => lo.next()), [500, 1000, 2000, 4000, 4000, 4000]);
  const hi = new Backoff({ minMs: 1000, maxMs: 8000, random: () => 0.999999 });
  assert.equal([1, 2, 3, 4, 5].map(() => hi.next()), [1000, 2000, 4000, 8000, 8000]);
  hi.reset();
  assert.is(hi.next(), 1000);
  assert.throws(() => new Backoff({ minMs: 0 }), /0 < min <= max/);
  assert.throws(() => new Backoff({ minMs: 10, maxMs: 5 }), /0 < min <= max/);
});

test.run();
