// The UCI grammar, one construct at a time, against what libuci's file.c does with it.
// These expectations were read from openwrt/uci file.c and list.c and checked by running the
// real `uci` built from those sources; uci-libuci.test.ts repeats that check on every run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findSection, getList, getOption, plainDocument, sectionRef, type UciSection } from '../../src/config/uci-document.ts';
import { parseUci } from '../../src/config/uci-parser.ts';

const parse = (text: string) => parseUci(text, { file: 'test', packageName: 'test' });
const only = (text: string): UciSection => {
  const doc = parse(text);
  assert.is(doc.packages.length, 1);
  assert.is(doc.packages[0]!.sections.length, 1);
  return doc.packages[0]!.sections[0]!;
};
const value = (text: string, option = 'o'): string | undefined => getOption(only(text), option);

test('config/option/list with full keywords', () => {
  const s = only("config iface 'lan'\n\toption proto 'static'\n\tlist dns '1.1.1.1'\n\tlist dns '9.9.9.9'\n");
  assert.is(s.type, 'iface');
  assert.is(s.name, 'lan');
  assert.is(getOption(s, 'proto'), 'static');
  assert.equal(getList(s, 'dns'), ['1.1.1.1', '9.9.9.9']);
});

test('abbreviations p, c, o, l', () => {
  const doc = parseUci("p net\nc iface lan\no proto dhcp\nl dns 1.1.1.1\n", { file: 'x' });
  assert.is(doc.packages[0]!.name, 'net');
  const s = doc.packages[0]!.sections[0]!;
  assert.is(s.name, 'lan');
  assert.is(getOption(s, 'proto'), 'dhcp');
  assert.equal(getList(s, 'dns'), ['1.1.1.1']);
});

test('a keyword must be exactly the word or its letter', () => {
  for (const word of ['configs', 'opt', 'lists', 'pkg', 'Config'])
    assert.throws(() => parse(`${word} a b`), (e: Error) => e.message.includes(`found '${word}'`), word);
});

test("';' separates statements on one line", () => {
  const s = only("config t 'n'; option a '1' ; option b '2';option c \"3\"\n");
  assert.is(getOption(s, 'a'), '1');
  assert.is(getOption(s, 'b'), '2');
  assert.is(getOption(s, 'c'), '3');
});

test("';' inside quotes is text", () => {
  assert.is(value("config t\n option o 'a;b'"), 'a;b');
  assert.is(value('config t\n option o "a;b"'), 'a;b');
  assert.is(value('config t\n option o a\\;b'), 'a;b');
});

test('comments: whole lines, after statements, and # inside a word starts one', () => {
  const s = only("# header\n  # indented\nconfig t 'n' # after config\n\toption a 'x' # after option\n\toption b x#y z\n");
  assert.is(getOption(s, 'a'), 'x');
  // libuci's parse_str ends the word at '#' and drops the rest of the line.
  assert.is(getOption(s, 'b'), 'x');
});

test('# inside quotes is text', () => {
  assert.is(value("config t\n option o 'a # b'"), 'a # b');
  assert.is(value('config t\n option o "#x"'), '#x');
  assert.is(value('config t\n option o \\#x'), '#x');
});

test('single quotes are literal and may span lines', () => {
  assert.is(value("config t\n option o 'a\\b\\\\c \"d\"'"), 'a\\b\\\\c "d"');
  const doc = parse("config t\n option o 'line1\nline2\n  line3'\n option after 'x'\n");
  const s = doc.packages[0]!.sections[0]!;
  assert.is(getOption(s, 'o'), 'line1\nline2\n  line3');
  // Line numbers keep counting through the quoted newlines.
  const after = s.options.get('after');
  assert.is(after?.kind === 'option' && after.line, 5);
});

test('double quotes: backslash escapes, newlines kept, may span lines', () => {
  assert.is(value('config t\n option o "a\\"b"'), 'a"b');
  assert.is(value('config t\n option o "a\\\\b"'), 'a\\b');
  assert.is(value('config t\n option o "a\\nb"'), 'anb'); // \x is x: no C escapes
  assert.is(value("config t\n option o \"it's\""), "it's");
  assert.is(value('config t\n option o "one\ntwo"'), 'one\ntwo');
});

test('unquoted text: backslash escapes the next character', () => {
  assert.is(value('config t\n option o a\\ b'), 'a b');
  assert.is(value("config t\n option o it\\'s"), "it's");
  assert.is(value('config t\n option o \\\\'), '\\');
});

test('a trailing backslash continues the line (unquoted, double-quoted, CRLF)', () => {
  assert.is(value('config t\n option o abc\\\ndef\n'), 'abcdef');
  assert.is(value('config t\n option o "abc\\\ndef"\n'), 'abcdef');
  assert.is(value('config t\r\n option o abc\\\r\ndef\r\n'), 'abcdef');
  // In single quotes a backslash is literal, newline included.
  assert.is(value("config t\n option o 'abc\\\ndef'\n"), 'abc\\\ndef');
  // A continued line that starts with a blank ends the word, as in libuci.
  assert.throws(() => parse('config t\n option o abc\\\n def\n'), /extra argument 'def'/);
});

test("adjacent pieces concatenate: 'it'\\''s' and mixed quoting", () => {
  assert.is(value("config t\n option o 'it'\\''s'"), "it's");
  assert.is(value('config t\n option o a\'b\'"c"d'), 'abcd');
  assert.is(value("config t\n option o ''\"\"x"), 'x');
});

test('CRLF line endings are whitespace', () => {
  const s = only("config t 'n'\r\n\toption a 'x'\r\n\toption b y\r\n");
  assert.is(getOption(s, 'a'), 'x');
  assert.is(getOption(s, 'b'), 'y');
});

test('anonymous sections and @type[N] naming (N counts named sections of the type too)', () => {
  const doc = parse("config rule\n option n 0\nconfig rule 'named'\n option n 1\nconfig zone\nconfig rule\n option n 2\n");
  const pkg = doc.packages[0]!;
  assert.equal(pkg.sections.map(sectionRef), ['@rule[0]', 'named', '@zone[0]', '@rule[2]']);
  assert.is(getOption(findSection(pkg, '@rule[2]')!, 'n'), '2');
  assert.is(getOption(findSection(pkg, '@rule[1]')!, 'n'), '1');
  assert.is(getOption(findSection(pkg, '@rule[-1]')!, 'n'), '2');
  assert.is(findSection(pkg, '@zone[0]')!.type, 'zone');
  assert.is(findSection(pkg, '@[1]')!.name, 'named');
  assert.is(findSection(pkg, '@rule[3]'), undefined);
  assert.is(findSection(pkg, 'named')!.typeIndex, 1);
  // An empty name is an anonymous section, as in libuci.
  assert.is(only("config t ''").name, null);
});

test('a repeated named section merges into the first, at its place, with a warning', () => {
  const doc = parse("config t 'a'\n option x 1\n option y 1\n list l 1\nconfig u 'b'\nconfig t 'a'\n option z 2\n option x 2\n list l 2\n");
  const pkg = doc.packages[0]!;
  assert.equal(pkg.sections.map((s) => s.name), ['a', 'b']);
  const a = pkg.sections[0]!;
  assert.equal(a.lines, [1, 6]);
  // libuci's order: x replaced in place, new z appended, the list extended.
  assert.equal(plainDocument(doc)[0]!.sections[0]!.options, [['x', '2'], ['y', '1'], ['l', ['1', '2']], ['z', '2']]);
  assert.equal(doc.warnings.map((w) => [w.line, w.column]), [[6, 1]]);
  assert.match(doc.warnings[0]!.message, /section 'a' is defined again \(first at line 1\): libuci merges the two/);
});

test('a repeated option keeps its first position (libuci replaces it in place); lines are tracked', () => {
  const s = only("config t\n option a 1\n option b 2\n option a 3\n");
  assert.equal([...s.options.keys()], ['a', 'b']);
  const a = s.options.get('a')!;
  assert.ok(a.kind === 'option');
  assert.is(a.value, '3');
  assert.is(a.line, 4);
  assert.equal(a.alsoSetAt, [2]);
});

test('list after option turns it into a list; option after list replaces the list; both in place', () => {
  const l = only('config t\n option a 1\n option b 1\n list a 2\n');
  assert.equal(getList(l, 'a'), ['1', '2']);
  assert.equal([...l.options.keys()], ['a', 'b']);
  const s = only('config t\n list a 1\n list a 2\n option b 1\n option a 3\n');
  assert.is(getOption(s, 'a'), '3');
  assert.is(getList(s, 'a'), undefined);
  assert.equal([...s.options.keys()], ['a', 'b']);
});

test('an empty option value is ignored (neither set nor deleted); an empty list item is kept', () => {
  const s = only("config t\n option a ''\n option b\n option c 'x'\n option c ''\n list d ''\n");
  assert.is(s.options.has('a'), false);
  assert.is(s.options.has('b'), false);
  assert.is(getOption(s, 'c'), 'x');
  assert.equal(getList(s, 'd'), ['']);
});

test('source lines and columns of sections, options and list items', () => {
  const doc = parse("\n# c\nconfig t 'n'\n\n   option a 'x'\n\tlist l 1\n\tlist l 2\n");
  const s = doc.packages[0]!.sections[0]!;
  assert.is(s.line, 3);
  const a = s.options.get('a')!;
  assert.ok(a.kind === 'option');
  assert.is(a.line, 5);
  assert.is(a.column, 4);
  const l = s.options.get('l')!;
  assert.ok(l.kind === 'list');
  assert.equal(l.lines, [6, 7]);
});

test('package statements start packages (import) or are only checked (single file)', () => {
  const text = "package a\nconfig t 'x'\npackage b\nconfig t 'x'\n";
  const imported = parseUci(text, { file: 'in' });
  assert.equal(imported.packages.map((p) => p.name), ['a', 'b']);
  assert.equal(imported.packages.map((p) => p.line), [1, 3]);
  const single = parseUci("package ignored\nconfig t 'x'\n", { file: '/etc/config/net', single: true });
  assert.equal(single.packages.map((p) => p.name), ['net']);
  // Without a package statement the package is named after the file, as libuci does.
  assert.is(parseUci("config t 'x'", { file: '/etc/config/wireless' }).packages[0]!.name, 'wireless');
});

test('name rules: section/option [A-Za-z0-9_], package adds -, type any printable ASCII', () => {
  assert.is(only("config 'my-type.v2' 'n_1'").type, 'my-type.v2');
  assert.is(parseUci('package my-pkg\nconfig t', { file: 'x' }).packages[0]!.name, 'my-pkg');
  assert.ok(only('config t\n option Opt_9 x').options.has('Opt_9'));
});

test("';' as libuci reads it: 'x;' ends the line (a warning), a ';' ending a line is an error", () => {
  // An unquoted value directly followed by ';': libuci's terminator overwrites the ';' and the
  // rest of the line is not read.
  const dropped = parse("config t 'n'\n option a x;option b y\n option c z\n");
  const s = dropped.packages[0]!.sections[0]!;
  assert.equal([...s.options.keys()], ['a', 'c']);
  assert.is(dropped.warnings.length, 1);
  assert.is(dropped.warnings[0]!.line, 2);
  assert.match(dropped.warnings[0]!.message, /ignores the rest of this line after 'x;' \(10 characters are not read\)/);
  assert.equal([...only('config t n;;option a 1\n').options.keys()], []);
  // Nothing to drop: no warning.
  assert.is(parse("config t 'n'\n option a x;\n option b y; # c\n").warnings.length, 0);
  // A ';' ending the line after a quoted value or a blank: libuci says 'invalid command'.
  for (const text of ["config t 'n'\n option a 'x';\n", "config t 'n'\n option a x ; \n", 'config t "n";\r\n'])
    assert.throws(() => parse(text), /a statement after ';' \(libuci rejects a ';' at the end of a line/, text);
  // ... but not at the very end of the file, where libuci finds no further word.
  assert.is(getOption(only("config t 'n'\n option a 'x';"), 'a'), 'x');
  // The documented forms give no warning.
  assert.is(parse("config t 'n' ; option a 'x'; option b y ; option c z\n").warnings.length, 0);
});

test("the statement word ends at a space or tab only (libuci's strtok), errors escape control characters", () => {
  assert.throws(() => parse('config\vt n\n'), (e: Error) => e.message.includes("found 'config\\x0Bt'"));
  assert.is(only('config\tt\toption_less').name, 'option_less');
});

test('what the document says, without positions', () => {
  assert.equal(plainDocument(parse("config t 'n'\n option a 1\n list b 2\n")), [
    { name: 'test', sections: [{ type: 't', name: 'n', options: [['a', '1'], ['b', ['2']]] }] },
  ]);
});

test.run();
