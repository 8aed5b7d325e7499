// The in-memory form of UCI text: packages -> sections (in file order) -> options and lists,
// each carrying the source line it came from so that config errors can point at it.

/** A plain `option`: one string. */
export interface UciScalarOption {
  kind: 'option';
  name: string;
  value: string;
  line: number;
  column: number;
  /** Other lines that set this same name too (uci keeps the last value; these were overridden or repeated it). */
  alsoSetAt: number[];
}

/** A `list`: every `list <name> <value>` statement of the section, in order. */
export interface UciListOption {
  kind: 'list';
  name: string;
  values: string[];
  /** One line per value. */
  lines: number[];
  /** Lines of a plain option or list of this name that an earlier statement replaced. */
  alsoSetAt: number[];
}

export type UciOption = UciScalarOption | UciListOption;

export interface UciSection {
  type: string;
  /** null for an anonymous section (`config type` without a name). */
  name: string | null;
  /** Position among the package's sections of the same type: the N of `@type[N]`. */
  typeIndex: number;
  /** Line of the first `config` statement that opened this section. */
  line: number;
  /** Every `config` line that opened this section: more than one when a named section repeats (libuci merges them into the first). */
  lines: number[];
  /** Options and lists in the order libuci keeps them: where each name first appeared (a value set again is replaced in place). */
  options: Map<string, UciOption>;
}

export interface UciPackage {
  name: string;
  /** Line of the `package` statement, or null when the name came from the file name. */
  line: number | null;
  sections: UciSection[];
}

/** Something the parser accepted but real libuci would read differently or reject. */
export interface UciWarning {
  line: number;
  column: number;
  message: string;
}

export interface UciDocument {
  file: string;
  packages: UciPackage[];
  warnings: UciWarning[];
}

/** Section and option names: letters, digits, '_' (libuci's uci_validate_name). */
export const UCI_NAME = /^[A-Za-z0-9_]+$/;
/** Package (config file) names also allow '-'. */
export const UCI_PACKAGE_NAME = /^[A-Za-z0-9_-]+$/;
/** Section types: any printable ASCII except space (libuci's uci_validate_type). */
export const UCI_TYPE = /^[!-~]+$/;

/** How `uci show` names a section: its name, or `@type[N]` when anonymous. */
export function sectionRef(s: UciSection): string {
  return s.name ?? `@${s.type}[${s.typeIndex}]`;
}

/**
 * Finds a section by name or by `@type[N]` / `@type[-N]` (from the end) / `@[N]` (any type),
 * with libuci's counting: N counts every section of that type, named or not.
 */
export function findSection(pkg: UciPackage, ref: string): UciSection | undefined {
  const ext = /^@([!-~]*?)\[(-?\d+)\]$/.exec(ref);
  if (!ext) return pkg.sections.find((s) => s.name === ref);
  const type = ext[1];
  const matching = type ? pkg.sections.filter((s) => s.type === type) : pkg.sections;
  let idx = Number(ext[2]);
  if (idx < 0) idx += matching.length;
  return matching[idx];
}

/** The value of a plain option, or undefined (also when the name is a list). */
export function getOption(s: UciSection, name: string): string | undefined {
  const o = s.options.get(name);
  return o?.kind === 'option' ? o.value : undefined;
}

/** The values of a list, or undefined (also when the name is a plain option). */
export function getList(s: UciSection, name: string): string[] | undefined {
  const o = s.options.get(name);
  return o?.kind === 'list' ? o.values : undefined;
}

/** What a document says, without where it said it: equal for parse(serialise(doc)) and doc. */
export interface PlainPackage {
  name: string;
  sections: { type: string; name: string | null; options: [string, string | string[]][] }[];
}

export function plainDocument(doc: UciDocument | UciPackage[]): PlainPackage[] {
  const pkgs = Array.isArray(doc) ? doc : doc.packages;
  return pkgs.map((p) => ({
    name: p.name,
    sections: p.sections.map((s) => ({
      type: s.type,
      name: s.name,
      options: [...s.options.values()].map((o): [string, string | string[]] =>
        o.kind === 'option' ? [o.name, o.value] : [o.name, [...o.values]],
      ),
    })),
  }));
}
