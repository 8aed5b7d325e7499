// The action journal on a real file: bounded, few writes (batched, rate-limited; forced only when
// an action is about to change the system), survives a reload, and a corrupt file is set aside.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

test('a corrupt or foreign file: a warning, kept aside as .bad, and a fresh journal', () => {
  for (const text of ['{"version":1,"entries":[', '{"version":2,"entries":[]}', '\u0000\u0001', '[]']) {
    const p = path();
    writeFileSync(p, text);
    const j = new Journal({ path: p });
    assert.ok(j.loadWarning && j.loadWarning.startsWith(p), String(j.loadWarning));
    assert.is(j.all().length, 0);
    assert.ok(existsSync(`${p}.bad`));
  }
  // Entries of the wrong shape are dropped, the rest kept.
  const p = path();
  writeFileSync(p, JSON.stringify({ version: 1, entries: [{ id: 'x' }, { ...entry(5), id: 7, updatedMs: 5 }] }));
  const j = new Journal({ path: p });
  assert.is(j.loadWarning, null);
  assert.equal(j.all().map((e) => e.id), [7]);
});

test('an unwritable path is counted and reported, not thrown', () => {
  writeFileSync(join(dir, 'file'), '');
  const j = new Journal({ path: join(dir, 'file', 'journal.json') });
  j.add(entry(0), 0, true);
  assert.is(j.stats.writes, 0);
  assert.is(j.stats.writeErrors, 1);
  assert.ok(j.stats.lastWriteError);
});

test.run();
