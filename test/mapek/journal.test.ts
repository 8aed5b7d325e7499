// The action journal on a real file: bounded, few writes (batched, rate-limited; forced only when
// an action is about to change the system), survives a reload, a damaged journal of ours is set
// aside, a foreign file is never touched, and a full disk leaves no temporary files.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Journal, type JournalEntry } from '../../src/mapek/journal.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-journal-'));
let n = 0;
const path = () => join(dir, `j${n++}.json`);

const entry = (atMs: number, state: JournalEntry['state'] = 'kept'): Omit<JournalEntry, 'id' | 'updatedMs'> => ({
  atMs, action: 'orig-interval', target: {}, finding: 'link-dead', findingKey: 'k', reason: 'test', evidence: { a: 1 },
  rung: 1, disruptive: false, state, revert: state === 'holding' ? { origIntervalMs: 1000 } : null, holdUntilMs: null,
  before: null, after: null, outcome: null,
});

test('routine updates are batched: at most one write per interval, whatever the number of changes', () => {
  const p = path();
  const j = new Journal({ path: p, minWriteIntervalMs: 60_000 });
  for (let t = 0; t < 300_000; t += 1000) j.add(entry(t), t, false);
  // 300 additions over five minutes: the first write, then one a minute.
  assert.ok(j.stats.writes >= 5 && j.stats.writes <= 6, String(j.stats.writes));
  j.flush(300_000);
  assert.is(JSON.parse(readFileSync(p, 'utf8')).entries.length, 200, 'bounded to the default limit');
});

test('a critical change is written at once', () => {
  const p = path();
  const j = new Journal({ path: p, minWriteIntervalMs: 60_000 });
  j.add(entry(0), 0, false);
  const e = j.add(entry(1000, 'applying'), 1000, true);
  const disk = JSON.parse(readFileSync(p, 'utf8')) as { entries: JournalEntry[] };
  assert.is(disk.entries.at(-1)!.id, e.id);
  assert.is(disk.entries.at(-1)!.state, 'applying');
});

test('bounded: the oldest closed entries go first; open ones (with revert state) stay', () => {
  const j = new Journal({ path: null, limit: 5 });
  j.add(entry(0, 'holding'), 0, false);
  for (let i = 1; i < 20; i++) j.add(entry(i), i, false);
  assert.is(j.all().length, 5);
  assert.is(j.all()[0]!.state, 'holding');
  assert.equal(j.open().map((e) => e.atMs), [0]);
});

test('reload: entries and ids continue', () => {
  const p = path();
  const a = new Journal({ path: p });
  a.add(entry(0, 'holding'), 0, true);
  a.add(entry(1), 1, false);
  a.flush(2);
  const b = new Journal({ path: p });
  assert.is(b.all().length, 2);
  assert.is(b.open().length, 1);
  assert.is(b.add(entry(3), 3, false).id, 3);
});

test('our own journal, damaged: a warning, kept aside as .bad, and a fresh journal', () => {
  const p = path();
  writeFileSync(p, '{"version":1,"entries":[');
  const j = new Journal({ path: p });
  assert.ok(j.loadWarning && j.loadWarning.startsWith(p), String(j.loadWarning));
  assert.is(j.all().length, 0);
  assert.ok(existsSync(`${p}.bad`));
  assert.is(j.problem(), null);
  // Entries of the wrong shape are dropped, the rest kept.
  const q = path();
  writeFileSync(q, JSON.stringify({ version: 1, entries: [{ id: 'x' }, { ...entry(5), id: 7, updatedMs: 5 }] }));
  const k = new Journal({ path: q });
  assert.is(k.loadWarning, null);
  assert.equal(k.all().map((e) => e.id), [7]);
});

test('a foreign file at the path is never moved, replaced or deleted: memory only, and a problem to show', () => {
  for (const text of ['{"version":2,"entries":[]}', '\u0000\u0001', '[]', 'root:x:0:0:root:/root:/bin/sh\n']) {
    const p = path();
    writeFileSync(p, text);
    const j = new Journal({ path: p });
    j.add(entry(0, 'applying'), 0, true);
    j.flush(1);
    assert.is(readFileSync(p, 'utf8'), text, 'byte for byte unchanged');
    assert.not.ok(existsSync(`${p}.bad`));
    assert.equal(readdirSync(dir).filter((n) => n.includes('.tmp')), []);
    assert.ok(j.loadWarning && j.loadWarning.startsWith(p), String(j.loadWarning));
    assert.ok(j.problem()?.includes(p), String(j.problem()));
  }
});

test('a symlink, FIFO or directory at the path: refused at once (no blocking), the target untouched', () => {
  const decoy = join(dir, 'decoy');
  writeFileSync(decoy, 'decoy bytes');
  const link = path();
  symlinkSync(decoy, link);
  const fifo = path();
  execFileSync('mkfifo', [fifo]);
  const sub = path();
  mkdirSync(sub);
  for (const p of [link, fifo, sub]) {
    const j = new Journal({ path: p });
    assert.ok(j.problem()?.startsWith(p), String(j.problem()));
    j.add(entry(0, 'applying'), 0, true);
  }
  assert.is(readFileSync(decoy, 'utf8'), 'decoy bytes');
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.ok(lstatSync(fifo).isFIFO());
});

test('a parent that is a file: refused, reported, not thrown', () => {
  writeFileSync(join(dir, 'file'), '');
  const j = new Journal({ path: join(dir, 'file', 'journal.json') });
  j.add(entry(0), 0, true);
  assert.is(j.stats.writes, 0);
  assert.ok(j.problem());
});

test('a full disk (a real 256 KiB tmpfs): failed writes counted and shown as a problem, no *.tmp-* left; recovers', () => {
  const mnt = mkdtempSync(join(tmpdir(), 'x0-journal-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  try {
    const p = join(mnt, 'journal.json');
    const j = new Journal({ path: p, minWriteIntervalMs: 0 });
    j.add(entry(0), 0, true);
    assert.is(j.stats.writes, 1);
    // Fill the file system, then grow the journal past what is left.
    const filler = join(mnt, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(1024 * 1024));
    } catch {
      // ENOSPC: as full as it gets
    }
    for (let i = 1; i < 150; i++) j.add({ ...entry(i), reason: 'x'.repeat(400) }, i, true);
    assert.ok(j.stats.writeErrors > 0, 'writes failed');
    assert.equal(readdirSync(mnt).filter((n) => n.includes('.tmp')), [], 'no temporary files left behind');
    assert.match(String(j.problem()), /ENOSPC/);
    rmSync(filler);
    j.add(entry(200), 200, true);
    assert.is(j.problem(), null, 'writes again once there is room');
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true });
  }
});

test.run();
