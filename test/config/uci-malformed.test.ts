// Bad input gives a UciSyntaxError with file, line, column and what was expected — never a
// crash, a hang or a silently wrong document.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { plainDocument } from '../../src/config/uci-document.ts';
import { MAX_UCI_BYTES, parseUci, UciSyntaxError } from '../../src/config/uci-parser.ts';
import { serializeUci } from '../../src/config/uci-serializer.ts';

function syntaxError(input: string | Uint8Array): UciSyntaxError {
  try {
    parseUci(input, { file: 'bad.conf', packageName: 'bad' });
  } catch (e) {
    if (e instanceof UciSyntaxError) return e;
    throw new Error(`expected UciSyntaxError, got ${String(e)}`);
  }
  throw new Error('expected UciSyntaxError, parsed fine');
}

function at(input: string, line: number, column: number, expected: RegExp): void {
  const e = syntaxError(input);
  assert.is(e.file, 'bad.conf');
  assert.is(`${e.line}:${e.column}`, `${line}:${column}`, `position for ${JSON.stringify(input)}`);
  assert.match(e.expected, expected);
  assert.ok(e.message.startsWith(`bad.conf:${line}:${column}: expected `), e.message);
}

test('unclosed single quote: the line and column of the opening quote', () => {
  at("config t 'n'\n\toption a 'never closed\nmore\nlines\n", 2, 11, /closing ' for the quote opened at 2:11/);
  assert.match(syntaxError("config t 'n'\n\toption a 'x\n").found, /end of the file/);
});

test('unclosed double quote, also after a trailing backslash', () => {
  at('config t\n option a "abc\n\n', 2, 11, /closing " for the quote opened at 2:11/);
  at('config t\n option a "abc\\', 2, 11, /closing "/);
});

test('bad names', () => {
  at("config t 'a-b'", 1, 10, /section name of letters, digits and '_'/);
  at("config t 'a.b'", 1, 10, /section name/);
  at("config t\n option 'my-opt' x", 2, 9, /option name of letters, digits and '_'/);
  at("config t\n list 'a b' x", 2, 7, /option name/);
  at("config 'a b'", 1, 8, /section type of printable ASCII/);
  at('config "é"', 1, 8, /section type/);
  at('package "a.b"', 1, 9, /package name of letters, digits, '_' and '-'/);
});

test('missing arguments', () => {
  at('config', 1, 1, /section type after 'config'/);
  at("config ''", 1, 1, /section type after 'config'/);
  at('config t\n  option', 2, 3, /option name after 'option'/);
  at('config t\n  list ;', 2, 3, /option name after 'list'/);
  at('package', 1, 1, /package name after 'package'/);
});

test('too many arguments (libuci is strict by default)', () => {
  const e = syntaxError("config t 'n' extra");
  assert.is(`${e.line}:${e.column}`, '1:14');
  assert.match(e.found, /extra argument 'extra'/);
  at("config t\n option a 'b' 'c'", 2, 15, /end of the statement/);
});

test('unknown statement, empty statement, option before any section', () => {
  at("config t\n  opton a b", 2, 3, /package, config, option or list/);
  at("config t\n ;", 2, 2, /a statement/);
  at("config t 'n';; option a b", 1, 14, /a statement/);
  at('option a b', 1, 1, /'config' statement before the first option/);
  at("list a b\nconfig t 'x'", 1, 1, /'config' statement before the first list/);
});

test('a repeated named section may not change type', () => {
  const e = syntaxError("config t 'a'\nconfig u 'a'\n");
  assert.is(e.line, 2);
  assert.match(e.expected, /type 't' like the earlier section 'a' at line 1/);
});

test('a repeated package name in one input', () => {
  const e = syntaxError("package a\nconfig t\npackage b\npackage a\n");
  assert.is(e.line, 4);
  assert.match(e.expected, /not used before.*line 1/);
});

test('config before any package when no package name is known', () => {
  assert.throws(() => parseUci('config t', { file: 'has.dot' }), (e: unknown) => e instanceof UciSyntaxError && /package <name>/.test(e.expected));
});

test('NUL bytes and control characters: position and a hint', () => {
  const e = syntaxError("config t 'n'\n\toption a 'x\0y'\n");
  assert.is(`${e.line}:${e.column}`, '2:13');
  assert.match(e.found, /NUL byte.*binary/);
  assert.match(syntaxError('config t\n\x1b[31m').found, /U\+001B/);
  // Tab, CR, vertical tab and form feed are whitespace, not errors.
  assert.is(parseUci('config\tt\v\f\r\n', { file: 'x', packageName: 'x' }).packages[0]!.sections[0]!.type, 't');
});

test('binary garbage is rejected cleanly (seeded)', () => {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  for (let round = 0; round < 50; round++) {
    const bytes = new Uint8Array(4096).map(rand);
    const e = syntaxError(bytes);
    assert.ok(e.line >= 1 && e.column >= 1);
  }
});

test('invalid UTF-8 is rejected with its position', () => {
  const bytes = Buffer.concat([Buffer.from("config t 'n'\n option a '"), Buffer.from([0xc3, 0x28]), Buffer.from("'\n")]);
  const e = syntaxError(bytes);
  assert.is(`${e.line}:${e.column}`, '2:12');
  assert.match(e.found, /not valid UTF-8/);
  // Valid UTF-8 is fine, in values and as bytes.
  const ok = parseUci(Buffer.from("config t 'n'\n option a 'Grüße ✓ 🚀'\n"), { file: 'x', packageName: 'x' });
  const o = ok.packages[0]!.sections[0]!.options.get('a');
  assert.is(o?.kind === 'option' && o.value, 'Grüße ✓ 🚀');
});

test('a byte order mark is named as such', () => {
  assert.match(syntaxError("\uFEFFconfig t 'n'\n").found, /byte order mark/);
});

test('a 10 MB input is refused up front, as text or as bytes', () => {
  const big = `config t 'n'\n${"\toption a 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n".repeat(10 * 1024 * 1024 / 48)}`;
  assert.ok(big.length > 10_000_000);
  const e = syntaxError(big);
  assert.match(e.expected, new RegExp(`at most ${MAX_UCI_BYTES / 1024} KiB`));
  assert.match(e.found, /MiB/);
  assert.match(syntaxError(Buffer.from(big)).found, /MiB/);
});

test('inputs just under the limit parse in bounded time (no quadratic blow-up)', () => {
  // One huge single-quoted value, one huge unquoted value, many lines: all near 1 MiB.
  const cases = [
    `config t 'n'\n option a '${'x\n'.repeat(500_000)}'\n`,
    `config t 'n'\n option a ${'y'.repeat(1_000_000)}\n`,
    `config t 'n'\n${' list l v\n'.repeat(100_000)}`,
    `config t 'n'\n option a "${'\\"'.repeat(400_000)}"\n`,
  ];
  for (const text of cases) {
    const doc = parseUci(text, { file: 'x', packageName: 'x' });
    assert.is(doc.packages[0]!.sections.length, 1);
  }
});

test('deeply odd but valid input does not crash: only comments, only blanks, empty', () => {
  for (const text of ['', '\n\n\n', '# only a comment', '   \t  ', '#\n#\n']) {
    assert.equal(parseUci(text, { file: 'x', packageName: 'x' }).packages, []);
  }
});

test('seeded mutations of a real config: parsed, or refused with UciSyntaxError — nothing else', () => {
  const base = readFileSync(new URL('../../openwrt/x0tta6bl4/files/x0tta6bl4.config', import.meta.url), 'utf8');
  const pieces = ["'", '"', '\\', '\n', ';', '#', ' ', '\t', 'config ', 'option ', 'list x ', 'package p\n', '\0', 'é', '\r\n', "'\\''"];
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  let parsed = 0;
  let refused = 0;
  for (let round = 0; round < 2000; round++) {
    let text = base;
    for (let m = 1 + rand(4); m > 0; m--) {
      const at = rand(text.length + 1);
      const cut = rand(3) === 0 ? rand(20) : 0;
      text = text.slice(0, at) + pieces[rand(pieces.length)] + text.slice(at + cut);
    }
    try {
      const doc = parseUci(text, { file: 'fuzz', packageName: 'x0tta6bl4' });
      // What parses must survive a round trip too.
      assert.equal(plainDocument(parseUci(serializeUci(doc), { file: 'again' })), plainDocument(doc), `round ${round}`);
      parsed++;
    } catch (e) {
      if (!(e instanceof UciSyntaxError)) throw new Error(`round ${round}: ${String(e)}\n${JSON.stringify(text)}`);
      assert.ok(e.line >= 1 && e.column >= 1);
      refused++;
    }
  }
  // Both outcomes must occur, or the mutations were too mild or too wild to test anything.
  assert.ok(parsed > 100 && refused > 100, `parsed ${parsed}, refused ${refused}`);
});

test.run();
