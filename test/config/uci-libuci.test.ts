// Differential test: OpenWrt's real `uci` CLI, built from the vendored openwrt/uci and libubox
// sources, and our parser read the same files; the sections, options, values and their order
// must be the same (and our serializer must write what `uci export` writes), and an input one
// of them refuses the other must refuse too (at the same line). `uci` only ever sees a scratch directory: -c (configs), -C (override configs) and -t
// (change files) all point into it, never at /etc/config.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { plainDocument, sectionRef, type PlainPackage } from '../../src/config/uci-document.ts';
import { parseUci, UciSyntaxError } from '../../src/config/uci-parser.ts';
import { serializeUci } from '../../src/config/uci-serializer.ts';
import { buildOpenwrtUserspace, missingForBuild } from '../router/openwrt-userspace.ts';

const PKG = 'x0tta6bl4';

interface Case {
  name: string;
  text: string | Buffer;
  /** Our parser must also warn, matching this. */
  warns?: RegExp;
  /**
   * A deliberate difference: uci reads this, we refuse it. We take only text (no control bytes,
   * valid UTF-8) so that a binary file or device node named as the config gives one clear error
   * instead of a half-read config.
   */
  onlyWeRefuse?: true;
}

const CASES: Case[] = [
  // The two rules of issue 14 item 7.
  { name: 'option set twice keeps its first position', text: "config t 'a'\n\toption x '1'\n\toption y '2'\n\toption x '3'\n" },
  { name: 'option set twice, value of another length', text: "config t 'a'\n\toption x '1'\n\toption y '2'\n\toption x 'longer'\n" },
  { name: 'option set twice to the same value', text: "config t 'a'\n\toption x '1'\n\toption y '2'\n\toption x '1'\n" },
  {
    name: 'repeated named section merges into the first',
    text: "config agent 'main'\n\toption a '1'\n\toption b '1'\n\tlist l 'x'\nconfig other 'o'\n\toption k 'v'\nconfig agent 'main'\n\toption c '2'\n\toption a '2'\n\tlist l 'y'\n",
    warns: /section 'main' is defined again/,
  },
  { name: 'repeated named section, nothing new', text: "config t 'a'\n\toption x '1'\nconfig t 'a'\n", warns: /defined again/ },
  { name: 'repeated named section of another type', text: "config t 'a'\n\toption x '1'\nconfig u 'a'\n\toption y '2'\n" },
  // list vs option with the same name.
  { name: 'list after option: a list at the option place', text: "config t 'a'\n\toption x '1'\n\toption y '1'\n\tlist x '2'\n" },
  { name: 'option after list: replaces the list in place', text: "config t 'a'\n\tlist x '1'\n\tlist x '2'\n\toption y '1'\n\toption x '3'\n" },
  { name: 'list in a repeated section extends the list', text: "config t 'a'\n\tlist x '1'\nconfig t 'a'\n\tlist x '2'\n", warns: /defined again/ },
  { name: 'option in a repeated section replaces a list', text: "config t 'a'\n\tlist x '1'\n\toption y '1'\nconfig t 'a'\n\toption x '2'\n", warns: /defined again/ },
  // Anonymous sections and their @type[N] names.
  {
    name: 'anonymous and named sections, counted per type',
    text: "config rule\n\toption n '0'\nconfig rule 'named'\n\toption n '1'\nconfig zone\nconfig rule ''\n\toption n '2'\nconfig zone\n",
  },
  { name: 'two anonymous sections never merge', text: "config t\n\toption x '1'\nconfig t\n\toption x '2'\n" },
  // Empty values.
  { name: 'empty option values are ignored, empty list items kept', text: "config t 'a'\n\toption x ''\n\toption y\n\toption z '1'\n\toption z ''\n\tlist l\n\tlist l ''\n" },
  // Quoting and escaping.
  { name: 'single quotes are literal', text: "config t 'a'\n\toption x 'a\\b \"c\" #d ;e'\n" },
  { name: 'double quotes: backslash escapes the next character', text: 'config t \'a\'\n\toption x "a\\"b\\\\c\\nd \'e\' #f ;g"\n' },
  { name: 'unquoted: backslash escapes', text: "config t 'a'\n\toption x a\\ b\\'c\\;d\\#e\\\\\n" },
  { name: "adjacent pieces concatenate ('it'\\''s')", text: "config t 'a'\n\toption x 'it'\\''s'\n\toption y a'b'\"c\"d\n\toption z ''\"\"e\n" },
  { name: 'quotes spanning lines', text: "config t 'a'\n\toption x 'one\ntwo'\n\toption y \"three\nfour\"\n\toption z 'after'\n" },
  { name: 'backslash-newline continues (unquoted, double-quoted, CRLF)', text: "config t 'a'\n\toption x abc\\\ndef\n\toption y \"ghi\\\njkl\"\n\toption z mno\\\r\npqr\r\n" },
  { name: 'a continued line starting with a blank is an extra argument', text: "config t 'a'\n\toption x abc\\\n def\n" },
  { name: 'UTF-8 values', text: "config t 'a'\n\toption x 'grüße ✓'\n" },
  { name: 'section type with punctuation', text: "config 'my-type.v2' 'a'\n\toption x '1'\n" },
  // Comments and layout.
  { name: 'comments everywhere', text: "#!/bin/sh\n# header\n  # indented\nconfig t 'a' # after config\n\toption x '1' # after\n\toption y x#y z\n\toption z '#1'\n#end" },
  { name: 'missing trailing newline', text: "config t 'a'\n\toption x '1'" },
  { name: 'missing trailing newline after a backslash', text: "config t 'a'\n\toption x 1\\" },
  { name: 'CRLF line endings', text: "config t 'a'\r\n\toption x '1'\r\n\toption y 2\r\n" },
  { name: 'blank lines, tabs and vertical tabs as blanks', text: "\n\n\t\nconfig\tt\t'a'\n\v\toption\tx\t1\n\n\n" },
  { name: 'abbreviated keywords', text: "c t a\n o x 1\n l y 2\n" },
  { name: 'package statement in a config file is checked, then ignored', text: "package other\nconfig t 'a'\n\toption x '1'\n" },
  // ';' as libuci's tokenizer reads it.
  { name: "';' between statements", text: "config t 'a' ; option x '1'; option y 2 ;option z \"3\"\n" },
  { name: "an unquoted value directly before ';' ends the line", text: "config t 'a'\n\toption x 1;option y 2\n\toption z 3\n", warns: /ignores the rest of this line/ },
  { name: "config t a; drops the rest of the line", text: 'config t a; option x 1; option y 2\n', warns: /ignores the rest/ },
  { name: "';;' after an unquoted value", text: 'config t a;;option x 1\n', warns: /ignores the rest/ },
  { name: "';' then a comment", text: "config t 'a'\n\toption x '1'; # c\n\toption y 2; # c\n" },
  { name: "';' ending a line after a quoted value", text: "config t 'a'\n\toption x '1';\n" },
  { name: "';' then blanks ending a line", text: "config t 'a'\n\toption x 1 ; \n" },
  { name: "';' ending the file", text: "config t 'a'\n\toption x '1';" },
  { name: "empty statement ';;'", text: "config t 'a';;option x 1\n" },
  // Refused by both.
  { name: 'unterminated single quote', text: "config t 'a'\n\toption x 'abc\n" },
  { name: 'unterminated double quote', text: "config t 'a'\n\toption x \"abc\n" },
  { name: 'too many arguments', text: "config t 'a'\n\toption x 1 2\n" },
  { name: "'-' in a section name", text: 'config t a-b\n' },
  { name: "'-' in an option name", text: "config t 'a'\n\toption a-b 1\n" },
  { name: 'unknown statement', text: "config t 'a'\n\topton x 1\n" },
  { name: 'option before any section', text: "option x 1\nconfig t 'a'\n" },
  { name: 'keyword glued to a vertical tab', text: "config\vt 'a'\n" },
  { name: 'config without a type', text: 'config \n' },
  { name: 'a byte order mark', text: "\uFEFFconfig t 'a'\n" },
  // Read by uci, refused by us on purpose (see Case.onlyWeRefuse).
  { name: 'a NUL byte (uci cuts the value there)', text: "config t 'a'\n\toption x a\0b\n", onlyWeRefuse: true },
  { name: 'a control byte in a value', text: "config t 'a'\n\toption x a\x01b\n", onlyWeRefuse: true },
  { name: 'bytes that are not UTF-8', text: Buffer.from("config t 'a'\n\toption x a\xffb\n", 'latin1'), onlyWeRefuse: true },
];

/** A `uci export` text as data, read independently of our parser: its format is fixed. */
function readExport(out: string): PlainPackage {
  const unescape = (s: string) => s.replaceAll("'\\''", "'");
  const quoted = "'((?:[^']|'\\\\'')*)'";
  let pos = 0;
  const take = (re: RegExp): RegExpExecArray | null => {
    const y = new RegExp(re.source, 'y');
    y.lastIndex = pos;
    const m = y.exec(out);
    if (m) pos = y.lastIndex;
    return m;
  };
  const head = take(/package (\S+)\n/);
  if (!head) throw new Error(`not a uci export: ${JSON.stringify(out.slice(0, 80))}`);
  const pkg: PlainPackage = { name: head[1]!, sections: [] };
  for (;;) {
    const c = take(new RegExp(`\\nconfig (\\S+)(?: ${quoted})?\\n`));
    if (!c) break;
    const options: [string, string | string[]][] = [];
    for (;;) {
      const o = take(new RegExp(`\\t(option|list) (\\S+) ${quoted}\\n`));
      if (!o) break;
      const [, kind, name, value] = o as unknown as [string, string, string, string];
      const last = options.find(([n]) => n === name);
      if (kind === 'option') options.push([name, unescape(value)]);
      else if (last && Array.isArray(last[1])) last[1].push(unescape(value));
      else options.push([name, [unescape(value)]]);
    }
    pkg.sections.push({ type: unescape(c[1]!), name: c[2] === undefined ? null : unescape(c[2]), options });
  }
  if (out.slice(pos) !== '\n') throw new Error(`unexpected uci export text at ${pos}: ${JSON.stringify(out.slice(pos, pos + 80))}`);
  return pkg;
}

const missing = missingForBuild(['uci']);
if (missing.length && process.env.CI === 'true') throw new Error(`uci-libuci needs ${missing.join(', ')} in CI (Debian: cmake pkg-config gcc make libjson-c-dev)`);

if (missing.length) {
  test(`our UCI parser against the real uci (skipped outside CI: no ${missing.join(', ')})`, () => {});
} else {
  const uci = join(buildOpenwrtUserspace(['uci']).root, 'usr/bin/uci');
  const scratch = mkdtempSync(join(tmpdir(), 'x0-uci-libuci-'));
  const confDir = join(scratch, 'config');
  for (const d of ['config', 'override', 'changes']) mkdirSync(join(scratch, d));
  const file = join(confDir, PKG);
  const runUci = (...args: string[]) =>
    spawnSync(uci, ['-c', confDir, '-C', join(scratch, 'override'), '-t', join(scratch, 'changes'), ...args], { encoding: 'utf8', timeout: 10_000 });

  test.before(() => {
    // libuci always also reads change files from /tmp/.uci (compiled in); one there would
    // change what `uci` shows, so the comparison needs it absent.
    assert.not.ok(existsSync(`/tmp/.uci/${PKG}`), `/tmp/.uci/${PKG} exists: uci would apply its changes`);
  });
  test.after(() => rmSync(scratch, { recursive: true, force: true }));

  test('the built uci runs against a scratch directory', () => {
    writeFileSync(file, "config t 'a'\n\toption x '1'\n");
    const r = runUci('get', `${PKG}.a.x`);
    assert.is(r.error, undefined);
    assert.is(r.stdout, '1\n', r.stderr);
  });

  for (const c of CASES) {
    test(c.name, () => {
      writeFileSync(file, c.text);
      const exported = runUci('-N', 'export', PKG);
      const shown = runUci('show', PKG);
      let ours;
      try {
        ours = parseUci(c.text, { file, single: true });
      } catch (e) {
        if (!(e instanceof UciSyntaxError)) throw e;
        if (c.onlyWeRefuse) {
          assert.is(exported.status, 0, `uci now refuses it too: drop onlyWeRefuse (${exported.stderr.trim()})`);
          return;
        }
        assert.is.not(exported.status, 0, `uci reads what we refuse (${e.message}):\n${exported.stdout}`);
        const line = /Parse error \(.*\) at line (\d+)/.exec(exported.stderr);
        assert.ok(line, `uci fails differently: ${exported.stderr}`);
        assert.is(e.line, Number(line[1]), `uci: ${exported.stderr.trim()}; ours: ${e.message}`);
        return;
      }
      assert.not.ok(c.onlyWeRefuse, 'we read what this case says we refuse');
      assert.is(exported.status, 0, `uci refuses what we read: ${exported.stderr.trim()}`);
      assert.equal(plainDocument(ours), [readExport(exported.stdout)]);
      // Our writer writes what `uci export` writes, byte for byte.
      assert.fixture(serializeUci(ours), exported.stdout);
      // `uci show` names anonymous sections @type[N]; ours must name them the same way.
      assert.is(shown.status, 0, shown.stderr);
      const theirs = shown.stdout
        .split('\n')
        .map((l) => new RegExp(`^${PKG}\\.([^.=]+)=(\\S+)$`).exec(l))
        .filter((m) => m !== null)
        .map((m) => [m[1], m[2]]);
      assert.equal(ours.packages[0]?.sections.map((s) => [sectionRef(s), s.type]) ?? [], theirs);
      if (c.warns) assert.ok(ours.warnings.some((w) => c.warns!.test(w.message)), `expected a warning ${c.warns}: ${JSON.stringify(ours.warnings)}`);
    });
  }
}

test.run();
