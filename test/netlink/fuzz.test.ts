// A short run of the decoder fuzzer (the full >= 10^6-frame run is `npm run bench:netlink-fuzz`):
// random and mutated frames must end in data or a typed error, never a crash or a hang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classify, runFuzz, runRequesterFuzz, seedFrames, STRATEGIES } from '../../bench/netlink/frame-fuzzer.ts';

test('2*10^4 random and mutated frames through every decoder: no crash', () => {
  const r = runFuzz(20_000, 4711);
  const crashes = STRATEGIES.reduce((n, s) => n + r.byStrategy[s].crash, 0);
  assert.is(crashes, 0, JSON.stringify(r.crashes, null, 1));
  // The fuzzer really reaches both ends: garbage is refused, valid frames decode.
  assert.ok(r.byStrategy.random.decodeError > 0);
  assert.ok(r.byStrategy.lengthField.decodeError > 0 && r.byStrategy.lengthField.ok > 0);
  assert.is(r.byStrategy.intact.ok, r.byStrategy.intact.frames);
  assert.is(r.frames, 20_000);
});

test('every seed frame decodes as it is (the corpus is valid)', () => {
  for (const s of seedFrames()) assert.is(classify(s.frame, s.protocol).outcome, 'ok');
});

test('frames with lying length fields are typed errors (no allocation follows the lie)', () => {
  const nl = Buffer.alloc(20);
  nl.writeUInt32LE(0xffffffff, 0);
  nl.writeUInt16LE(0x1c, 4);
  assert.is(classify(nl, 'generic').outcome, 'decodeError');
  // A batadv message whose one attribute claims 65535 bytes.
  const m = Buffer.alloc(28);
  m.writeUInt32LE(28, 0);
  m.writeUInt16LE(0x1c, 4);
  m[16] = 8;
  m[17] = 1;
  m.writeUInt16LE(0xffff, 20);
  m.writeUInt16LE(9, 22);
  assert.is(classify(m, 'generic').outcome, 'decodeError');
});

test('2000 mutated frames through the request layer with a dump in flight: each settles, none crashes', async () => {
  const q = await runRequesterFuzz(2000, 99);
  assert.is(q.crash, 0);
  assert.is(q.hung, 0);
  assert.is(q.resolved + Object.values(q.typedErrors).reduce((a, b) => a + b, 0), 2000);
  assert.ok((q.typedErrors.NetlinkDecodeError ?? 0) > 0);
});

test.run();
