// parse -> serialise -> parse gives the same document: on hand-written cases and on seeded
// random documents whose values hold quotes, backslashes, newlines, '#', ';' and unicode.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { plainDocument, type UciOption, type UciPackage, type UciSection } from '../../src/config/uci-document.ts';
import { parseUci } from '../../src/config/uci-parser.ts';
import { quoteUci, serializeUci, UciSerializeError } from '../../src/config/uci-serializer.ts';

const reparse = (text: string) => parseUci(text, { file: 'roundtrip' });

test('the format of uci export: header, blank line before config, tabs, single quotes', () => {
  const doc = parseUci("config iface 'lan'\n option proto static\n list dns 1.1.1.1\n list dns \"9.9.9.9\"\nconfig rule\n option name it\\'s\n", {
    file: '/etc/config/network',
  });
  assert.is(
    serializeUci(doc),
    "package network\n\nconfig iface 'lan'\n\toption proto 'static'\n\tlist dns '1.1.1.1'\n\tlist dns '9.9.9.9'\n\nconfig rule\n\toption name 'it'\\''s'\n\n",
  );
  assert.is(serializeUci(doc, { header: false }).startsWith("\nconfig iface 'lan'\n"), true);
});

test("quoteUci writes ' as '\\'' and nothing else specially", () => {
  assert.is(quoteUci("it's"), "'it'\\''s'");
  assert.is(quoteUci('a\\b"c#d;e\nf'), "'a\\b\"c#d;e\nf'");
  assert.is(quoteUci(''), "''");
});

const HAND = [
  "config t 'n'\n option a 'x'\n",
  "config t\n option a 'it'\\''s'\n option b \"dq \\\"x\\\" \\\\ y\"\n list c ''\n list c ';#'\n",
  "config t 'multi'\n option text 'line 1\n\tline 2\n'\n option unicode 'Grüße ✓ 🚀 日本'\n",
  "package one\nconfig a 'x'\npackage two\nconfig a 'x'\n option o 1\n",
  "config \"odd'type\" 'n'\n option a b\nconfig 'ty#pe;x'\nconfig ty\\\\pe\n",
  "config t 'n'\n option a 1\n list a 2\n option b 3\n option b 4\n",
];

test('hand-written documents survive parse -> serialise -> parse', () => {
  for (const text of HAND) {
    const first = parseUci(text, { file: 'hand', packageName: 'hand' });
    const written = serializeUci(first);
    const second = reparse(written);
    assert.equal(plainDocument(second), plainDocument(first), text);
    // And the text is stable from then on.
    assert.is(serializeUci(second), written);
  }
});

test('the shipped default config round-trips', () => {
  const text = readFileSync(new URL('../../openwrt/x0tta6bl4/files/x0tta6bl4.config', import.meta.url), 'utf8');
  const first = parseUci(text, { file: '/etc/config/x0tta6bl4' });
  assert.equal(plainDocument(reparse(serializeUci(first))), plainDocument(first));
});

// --- seeded random documents ----------------------------------------------------------------

function rng(seed: number): () => number {
  // mulberry32: small, fast, and the same sequence everywhere.
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
const TYPE_CHARS = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');
const VALUE_PIECES = ["'", '"', '\\', '\n', '\r', '\t', ' ', '#', ';', '\\\n', "'\\''", 'a', 'Z', '0', 'é', '✓', '🚀', '日本', '\u00a0', '$(x)', '`', '=', '.'];

function generate(seed: number): UciPackage[] {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const word = (chars: string, min: number, max: number) =>
    Array.from({ length: min + int(max - min + 1) }, () => chars[int(chars.length)]).join('');
  const value = () => Array.from({ length: int(12) }, () => VALUE_PIECES[int(VALUE_PIECES.length)]).join('');
  const pkgs: UciPackage[] = [];
  const pkgNames = new Set<string>();
  for (let p = 0, np = 1 + int(3); p < np; p++) {
    let name = word(NAME_CHARS + '-', 1, 10);
    while (pkgNames.has(name)) name += 'x';
    pkgNames.add(name);
    const sections: UciSection[] = [];
    const sectionNames = new Set<string>();
    for (let s = 0, ns = int(6); s < ns; s++) {
      let sname: string | null = r() < 0.4 ? null : word(NAME_CHARS, 1, 8);
      while (sname !== null && sectionNames.has(sname)) sname += '_';
      if (sname !== null) sectionNames.add(sname);
      const options = new Map<string, UciOption>();
      for (let o = 0, no = int(6); o < no; o++) {
        const oname = word(NAME_CHARS, 1, 8);
        if (options.has(oname)) continue;
        if (r() < 0.6) {
          let v = value();
          if (v === '') v = 'x'; // uci has no empty options (see the serializer)
          options.set(oname, { kind: 'option', name: oname, value: v, line: 0, column: 0, alsoSetAt: [] });
        } else {
          const values = Array.from({ length: 1 + int(4) }, value);
          options.set(oname, { kind: 'list', name: oname, values, lines: [], alsoSetAt: [] });
        }
      }
      sections.push({ type: word(TYPE_CHARS, 1, 8), name: sname, typeIndex: 0, line: 0, lines: [], options });
    }
    pkgs.push({ name, line: null, sections });
  }
  return pkgs;
}

test('seeded random documents: 500 documents survive parse -> serialise -> parse', () => {
  let options = 0;
  for (let seed = 1; seed <= 500; seed++) {
    const doc = generate(seed);
    const text = serializeUci(doc);
    let back;
    try {
      back = reparse(text);
    } catch (e) {
      throw new Error(`seed ${seed}: ${String(e)}\n${text}`);
    }
    assert.equal(plainDocument(back), plainDocument(doc), `seed ${seed}`);
    assert.is(serializeUci(back), text, `seed ${seed}: text is stable`);
    options += doc.reduce((n, p) => n + p.sections.reduce((m, s) => m + s.options.size, 0), 0);
  }
  // The generator must actually produce content, or this test proves nothing.
  assert.ok(options > 1000, `only ${options} options generated`);
});

test('the serialiser refuses what it could not read back', () => {
  const bad = (mut: (p: UciPackage) => void) => {
    const pkg: UciPackage = { name: 'p', line: null, sections: [{ type: 't', name: 'n', typeIndex: 0, line: 0, lines: [], options: new Map() }] };
    mut(pkg);
    assert.throws(() => serializeUci(pkg), (e: unknown) => e instanceof UciSerializeError);
  };
  bad((p) => (p.name = 'a.b'));
  bad((p) => (p.sections[0]!.type = 'a b'));
  bad((p) => (p.sections[0]!.name = 'a-b'));
  bad((p) => p.sections[0]!.options.set('bad-name', { kind: 'option', name: 'bad-name', value: 'x', line: 0, column: 0, alsoSetAt: [] }));
  bad((p) => p.sections[0]!.options.set('a', { kind: 'option', name: 'a', value: 'x\0y', line: 0, column: 0, alsoSetAt: [] }));
  bad((p) => p.sections[0]!.options.set('a', { kind: 'list', name: 'a', values: ['\x01'], lines: [], alsoSetAt: [] }));
});

test('an empty option is left out, as uci never stores one', () => {
  const pkg: UciPackage = {
    name: 'p',
    line: null,
    sections: [{ type: 't', name: 'n', typeIndex: 0, line: 0, lines: [], options: new Map([['a', { kind: 'option', name: 'a', value: '', line: 0, column: 0, alsoSetAt: [] }]]) }],
  };
  assert.is(serializeUci(pkg), "package p\n\nconfig t 'n'\n\n");
});

test.run();
