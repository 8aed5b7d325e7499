// Parser for UCI text (/etc/config/*), following libuci's file.c: statements package/config/
// option/list (or p/c/o/l), ';' between statements, '#' comments outside quotes, '…' literal
// (may span lines), "…" and unquoted text with backslash escapes and line continuation,
// adjacent pieces concatenated. Merge rules follow libuci's uci_set/uci_add_list too (checked
// against the real `uci` in test/config/uci-libuci.test.ts): a repeated named section is merged
// into the first, at its place, with a warning (its type must not change: an error, as in
// libuci's default strict mode); a repeated option replaces the value in place (libuci keeps
// the first position); `list` after `option` turns the option into a list at its place; an
// `option` after a `list` replaces the list; and an empty option value is ignored.
//
// libuci's in-place tokenizer treats ';' oddly in two places; we read those as it does, with a
// warning or an error that says so (see `statementEnd`). Input is bounded (MAX_UCI_BYTES) and must
// be text: NUL and other control bytes are rejected with their position, so a binary file or a
// device node gives one clear error rather than a hang or a garbage document.
import { basename } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { escapePrintable } from './printable.ts';
import {
  UCI_NAME,
  UCI_PACKAGE_NAME,
  UCI_TYPE,
  type UciDocument,
  type UciOption,
  type UciPackage,
  type UciSection,
  type UciWarning,
} from './uci-document.ts';

/** A real /etc/config file is a few KB; anything past this is not a config file. */
export const MAX_UCI_BYTES = 1024 * 1024;

export class UciSyntaxError extends Error {
  override readonly name = 'UciSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    /** What the parser needed at this point, e.g. "a section name of letters, digits and '_'". */
    readonly expected: string,
    /** What it found instead, quoted when it is text from the file. */
    readonly found: string,
  ) {
    super(`${file}:${line}:${column}: expected ${expected}, found ${found}`);
  }
}

export interface UciParseOptions {
  /** Shown in errors; also the default package name (its basename). Default '<input>'. */
  file?: string;
  /** Package for sections before any `package` statement. Default: basename of `file` if valid. */
  packageName?: string;
  /**
   * Like libuci loading one /etc/config file: `package` statements are checked but do not start
   * a new package. Default false (`uci import` semantics: `package` starts a package).
   */
  single?: boolean;
}

const BLANK = new Set([' ', '\t', '\r', '\v', '\f']);
const isSpace = (c: string | undefined): boolean => c === '\n' || (c !== undefined && BLANK.has(c));
// Control bytes that no config file contains; \t \n \r \v \f are whitespace and allowed.
const CONTROL = /[\x00-\x08\x0e-\x1f]/;

const KEYWORDS: Record<string, 'package' | 'config' | 'option' | 'list'> = {
  package: 'package', p: 'package',
  config: 'config', c: 'config',
  option: 'option', o: 'option',
  list: 'list', l: 'list',
};

interface Arg {
  value: string;
  line: number;
  column: number;
  /** No quotes or escapes: libuci's tokenizer overwrites a directly following ';' (see statementEnd). */
  plain: boolean;
}

function describeChar(c: string): string {
  if (c === '\0') return 'a NUL byte (is this a binary file?)';
  const hex = c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `control character U+${hex} (is this a binary file?)`;
}

function quoteFound(s: string): string {
  const shown = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  // Escaped, so an error stays one readable line (no raw CR, no right-to-left override).
  return `'${escapePrintable(shown)}'`;
}

/** Position (1-based line and column) of a character index, for errors found before parsing. */
function positionOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}

/** The text, and the index of its first undecodable byte (-1 if none). */
function decode(input: string | Uint8Array, file: string): { text: string; badUtf8At: number } {
  if (typeof input === 'string') {
    // Cheap upper bound first: a UTF-8 byte count is at most 3 per UTF-16 unit.
    if (input.length * 3 > MAX_UCI_BYTES && Buffer.byteLength(input) > MAX_UCI_BYTES) tooBig(file, Buffer.byteLength(input));
    return { text: input, badUtf8At: -1 };
  }
  if (input.byteLength > MAX_UCI_BYTES) tooBig(file, input.byteLength);
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  // The first replacement character marks the first undecodable byte.
  return { text, badUtf8At: isUtf8(input) ? -1 : Math.max(0, text.indexOf('\uFFFD')) };
}

function tooBig(file: string, bytes: number): never {
  const size = bytes < 10 * 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  throw new UciSyntaxError(file, 1, 1, `a config file of at most ${MAX_UCI_BYTES / 1024} KiB`, `${bytes} bytes (${size})`);
}

/** Parses UCI text (string or raw bytes). Throws UciSyntaxError at the first error. */
export function parseUci(input: string | Uint8Array, options: UciParseOptions = {}): UciDocument {
  const file = options.file ?? '<input>';
  const { text, badUtf8At } = decode(input, file);
  // Whichever comes first in the file: a control byte or a byte that is not UTF-8.
  const bad = CONTROL.exec(text);
  if (badUtf8At !== -1 && (!bad || badUtf8At < bad.index)) {
    const { line, column } = positionOf(text, badUtf8At);
    throw new UciSyntaxError(file, line, column, 'UTF-8 text', 'bytes that are not valid UTF-8 (is this a binary file?)');
  }
  if (bad) {
    const { line, column } = positionOf(text, bad.index);
    throw new UciSyntaxError(file, line, column, 'text', describeChar(bad[0]));
  }
  const fromFile = options.file ? basename(options.file) : undefined;
  const defaultPackage = options.packageName ?? (fromFile && UCI_PACKAGE_NAME.test(fromFile) ? fromFile : null);
  return new Parser(text, file, defaultPackage, options.single ?? false).run();
}

class Parser {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private readonly packages: UciPackage[] = [];
  private readonly warnings: UciWarning[] = [];
  private pkg: UciPackage | null = null;
  private section: UciSection | null = null;
  // Lookups by name: a linear search per statement would make 30 000 named sections take seconds.
  private readonly packagesByName = new Map<string, UciPackage>();
  private readonly sectionsByName = new Map<UciPackage, Map<string, UciSection>>();

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly defaultPackage: string | null,
    private readonly single: boolean,
  ) {}

  run(): UciDocument {
    if (this.text.charCodeAt(0) === 0xfeff)
      this.fail('a statement (package, config, option or list)', 'a byte order mark (save the file as UTF-8 without BOM)');
    for (;;) {
      this.skipBlanks();
      const c = this.peek();
      if (c === undefined) break;
      if (c === '\n') this.advance();
      else if (c === '#') this.skipComment();
      else if (c === ';') this.fail('a statement (package, config, option or list)', "';' (an empty statement)");
      else this.statement();
    }
    for (const p of this.packages) {
      const counts = new Map<string, number>();
      for (const s of p.sections) {
        const n = counts.get(s.type) ?? 0;
        s.typeIndex = n;
        counts.set(s.type, n + 1);
      }
    }
    return { file: this.file, packages: this.packages, warnings: this.warnings };
  }

  // --- characters -------------------------------------------------------------------------

  private peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  private advance(): void {
    if (this.text[this.pos] === '\n') {
      this.line++;
      this.lineStart = this.pos + 1;
    }
    this.pos++;
  }

  private column(pos = this.pos): number {
    return pos - this.lineStart + 1;
  }

  private skipBlanks(): void {
    while (BLANK.has(this.text[this.pos] as string)) this.pos++;
  }

  private skipComment(): void {
    const nl = this.text.indexOf('\n', this.pos);
    this.pos = nl === -1 ? this.text.length : nl;
  }

  private fail(expected: string, found: string, line = this.line, column = this.column()): never {
    throw new UciSyntaxError(this.file, line, column, expected, found);
  }

  private warn(line: number, column: number, message: string): void {
    this.warnings.push({ line, column, message });
  }

  // --- statements -------------------------------------------------------------------------

  private statement(): void {
    const line = this.line;
    const column = this.column();
    const start = this.pos;
    // libuci splits the statement word off with strtok(" \t"): "config\vt" is one (bad) word.
    while (this.pos < this.text.length && !' \t\n'.includes(this.text[this.pos]!)) this.pos++;
    const word = this.text.slice(start, this.pos);
    const keyword = KEYWORDS[word];
    if (!keyword) this.fail('a statement: package, config, option or list (or p, c, o, l)', quoteFound(word), line, column);
    const args: Arg[] = [];
    const wanted = keyword === 'config' || keyword === 'option' || keyword === 'list' ? 2 : 1;
    for (let i = 0; i < wanted; i++) {
      const a = this.arg();
      if (!a) break;
      args.push(a);
    }
    this.statementEnd(args[args.length - 1]);
    if (keyword === 'package') this.packageStatement(args, line, column);
    else if (keyword === 'config') this.configStatement(args, line, column);
    else this.optionStatement(keyword, args, line, column);
  }

  /**
   * After the arguments: end of line, end of file, a comment, or ';'. Two of libuci's ways with
   * ';' are followed, since a file must mean the same to the agent as to `uci` and LuCI:
   * - its tokenizer writes the string terminator over a ';' that directly follows an unquoted
   *   value, which ends the line there: the rest of the line is dropped (with a warning);
   * - any other ';' followed only by blanks up to a line break is "invalid command" (an error).
   */
  private statementEnd(last: Arg | undefined): void {
    const semicolonDirect = this.peek() === ';' && last !== undefined && last.plain && last.line === this.line;
    this.skipBlanks();
    const c = this.peek();
    if (c === undefined || c === '\n') return;
    if (c === '#') return this.skipComment();
    if (c !== ';') {
      const line = this.line;
      const column = this.column();
      const extra = this.arg();
      this.fail('the end of the statement (a newline or \';\')', `an extra argument ${quoteFound(extra?.value ?? c)}`, line, column);
    }
    const semiLine = this.line;
    const semiColumn = this.column();
    this.pos++;
    if (semicolonDirect) {
      const restStart = this.pos;
      this.skipComment(); // to the end of the line
      const rest = this.text.slice(restStart, this.pos).trim();
      if (rest !== '' && !rest.startsWith('#'))
        this.warn(semiLine, semiColumn, `libuci ignores the rest of this line after '${last!.value};' (${rest.length} characters are not read): put a space before ';' or quote the value`);
      return;
    }
    this.skipBlanks();
    // libuci reads the next statement word up to ' ' or '\t' only, so "\r\n" here is a word too.
    if (this.peek() === '\n')
      this.fail("a statement after ';' (libuci rejects a ';' at the end of a line: remove it)", 'the end of the line', semiLine, semiColumn);
  }

  /** One argument, or null when the statement has no more (end of line, ';' or a comment). */
  private arg(): Arg | null {
    this.skipBlanks();
    const first = this.peek();
    if (first === undefined || first === '\n' || first === ';' || first === '#') return null;
    const line = this.line;
    const column = this.column();
    let value = '';
    let plain = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined || isSpace(c) || c === ';' || c === '#') break;
      if (c === "'") {
        plain = false;
        value += this.singleQuoted();
      } else if (c === '"') {
        plain = false;
        value += this.doubleQuoted();
      } else if (c === '\\') {
        plain = false;
        this.pos++;
        if (this.continuation()) continue;
        const n = this.peek();
        if (n === undefined) break;
        value += n;
        this.advance();
      } else {
        value += c;
        this.pos++;
      }
    }
    return { value, line, column, plain };
  }

  /** After a backslash: a line break (LF or CRLF) there means "continue on the next line". */
  private continuation(): boolean {
    const n = this.peek();
    if (n === '\n') {
      this.advance();
      return true;
    }
    if (n === '\r' && this.peek(1) === '\n') {
      this.pos++;
      this.advance();
      return true;
    }
    return false;
  }

  private singleQuoted(): string {
    const line = this.line;
    const column = this.column();
    const close = this.text.indexOf("'", this.pos + 1);
    if (close === -1) this.fail(`a closing ' for the quote opened at ${line}:${column}`, 'the end of the file', line, column);
    const body = this.text.slice(this.pos + 1, close);
    const lastNl = body.lastIndexOf('\n');
    if (lastNl !== -1) {
      for (let i = body.indexOf('\n'); i !== -1; i = body.indexOf('\n', i + 1)) this.line++;
      this.lineStart = this.pos + 1 + lastNl + 1;
    }
    this.pos = close + 1;
    return body;
  }

  private doubleQuoted(): string {
    const line = this.line;
    const column = this.column();
    this.pos++;
    let value = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail(`a closing " for the quote opened at ${line}:${column}`, 'the end of the file', line, column);
      if (c === '"') {
        this.pos++;
        return value;
      }
      if (c === '\\') {
        this.pos++;
        if (this.continuation()) continue;
        const n = this.peek();
        if (n === undefined) continue; // reported as unterminated above
        value += n;
        this.advance();
        continue;
      }
      value += c;
      this.advance();
    }
  }

  // --- what the statements do -------------------------------------------------------------

  private packageStatement(args: Arg[], line: number, column: number): void {
    const name = args[0];
    if (!name || name.value === '') this.fail("a package name after 'package'", 'nothing', line, column);
    if (!UCI_PACKAGE_NAME.test(name.value))
      this.fail("a package name of letters, digits, '_' and '-'", quoteFound(name.value), name.line, name.column);
    if (this.single) return; // like libuci loading one config file: checked, then ignored
    const earlier = this.packagesByName.get(name.value);
    if (earlier)
      this.fail(
        `a package name not used before in this input (package '${name.value}' began ${earlier.line ? `at line ${earlier.line}` : 'at the top'})`,
        quoteFound(name.value),
        name.line,
        name.column,
      );
    this.addPackage({ name: name.value, line, sections: [] });
    this.section = null;
  }

  private configStatement(args: Arg[], line: number, column: number): void {
    if (!this.pkg) {
      if (this.defaultPackage === null)
        this.fail("a 'package <name>' statement first (no package name is known for this input)", "'config'", line, column);
      this.addPackage({ name: this.defaultPackage, line: null, sections: [] });
    }
    const pkg = this.pkg!;
    const type = args[0];
    if (!type || type.value === '') this.fail("a section type after 'config'", 'nothing', line, column);
    if (!UCI_TYPE.test(type.value))
      this.fail('a section type of printable ASCII characters without spaces', quoteFound(type.value), type.line, type.column);
    const nameArg = args[1];
    const name = nameArg && nameArg.value !== '' ? nameArg.value : null;
    if (name !== null && !UCI_NAME.test(name))
      this.fail("a section name of letters, digits and '_'", quoteFound(name), nameArg!.line, nameArg!.column);
    if (name !== null) {
      const existing = this.sectionsByName.get(pkg)!.get(name);
      if (existing) {
        // libuci in strict mode (its default) refuses a type change; the same type merges.
        if (existing.type !== type.value)
          this.fail(
            `type '${existing.type}' like the earlier section '${name}' at line ${existing.line} (a repeated section merges and cannot change type)`,
            quoteFound(type.value),
            type.line,
            type.column,
          );
        existing.lines.push(line);
        this.warn(
          line,
          column,
          `section '${name}' is defined again (first at line ${existing.line}): libuci merges the two, later options replace earlier values in place and lists are extended`,
        );
        this.section = existing;
        return;
      }
    }
    this.section = { type: type.value, name, typeIndex: 0, line, lines: [line], options: new Map() };
    pkg.sections.push(this.section);
    if (name !== null) this.sectionsByName.get(pkg)!.set(name, this.section);
  }

  private addPackage(pkg: UciPackage): void {
    this.pkg = pkg;
    this.packages.push(pkg);
    this.packagesByName.set(pkg.name, pkg);
    this.sectionsByName.set(pkg, new Map());
  }

  private optionStatement(keyword: 'option' | 'list', args: Arg[], line: number, column: number): void {
    const section = this.section;
    if (!section) this.fail(`a 'config' statement before the first ${keyword}`, `'${keyword}'`, line, column);
    const nameArg = args[0];
    if (!nameArg || nameArg.value === '') this.fail(`an option name after '${keyword}'`, 'nothing', line, column);
    const name = nameArg.value;
    if (!UCI_NAME.test(name)) this.fail("an option name of letters, digits and '_'", quoteFound(name), nameArg.line, nameArg.column);
    const value = args[1]?.value ?? '';
    const existing = section.options.get(name);
    if (keyword === 'option') {
      // libuci ignores an empty option while parsing a file: it neither sets nor deletes.
      if (value === '') return;
      if (existing?.kind === 'option' && existing.value === value) {
        existing.alsoSetAt.push(line);
        return;
      }
      const replaced = existing ? [...existing.alsoSetAt, ...(existing.kind === 'option' ? [existing.line] : existing.lines)] : [];
      // Map.set on an existing key keeps its place: libuci's uci_set replaces the value in place.
      section.options.set(name, { kind: 'option', name, value, line, column, alsoSetAt: replaced });
      return;
    }
    if (existing?.kind === 'list') {
      existing.values.push(value);
      existing.lines.push(line);
      return;
    }
    const list: UciOption = existing
      ? { kind: 'list', name, values: [existing.value, value], lines: [existing.line, line], alsoSetAt: existing.alsoSetAt }
      : { kind: 'list', name, values: [value], lines: [line], alsoSetAt: [] };
    // An option turned into a list keeps its place too (uci_add_list inserts it after the old one).
    section.options.set(name, list);
  }
}
