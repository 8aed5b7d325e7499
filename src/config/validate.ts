// Turns a parsed /etc/config/x0tta6bl4 into an AgentConfig, collecting every problem instead
// of stopping at the first: an operator fixing a config on a router wants the whole list.
import type { ConfigIssue } from './config-error.ts';
import { crossCheck, type SourceLines } from './cross-checks.ts';
import { defaultConfig } from './defaults.ts';
import { escapePrintable } from './printable.ts';
import { redactUrl } from './redact-url.ts';
import { SCHEMA, SECTION_NAMES, sectionFields, type AgentConfig, type Field, type SectionName } from './schema.ts';
import { sectionRef, type UciDocument, type UciOption, type UciSection } from './uci-document.ts';

export interface Validated {
  config: AgentConfig;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

const isSectionName = (s: string): s is SectionName => Object.hasOwn(SCHEMA, s);

/** Edit distance, for "did you mean" on misspelt option and section names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggest(word: string, candidates: string[]): string {
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

/**
 * A value as an error quotes it: at most 60 characters (whole code points), non-printables
 * escaped, credentials in a URL (a mistyped broker) hidden.
 */
function shown(value: string, secret: boolean | undefined): string {
  if (secret) return `a value of ${value.length} characters`;
  const chars = Array.from(redactUrl(value));
  return `'${escapePrintable(chars.length > 60 ? `${chars.slice(0, 60).join('')}…` : chars.join(''))}'`;
}

/** Parses one field's raw value(s); returns the typed value or the message for the issue. */
export function parseField(field: Field<unknown>, raw: string | string[]): { value: unknown } | { message: string } {
  if (field.kind === 'option') {
    if (Array.isArray(raw)) {
      if (raw.length !== 1) return { message: `expected a single 'option ${field.uci}', found a list of ${raw.length} values` };
      raw = raw[0]!;
    }
    const r = field.type.parse(raw);
    return r.ok ? { value: r.value } : { message: `expected ${r.expected}, found ${shown(raw, field.type.secret)}` };
  }
  const items = Array.isArray(raw) ? raw : [raw];
  const values: unknown[] = [];
  for (const [i, item] of items.entries()) {
    const r = field.type.parse(item);
    if (!r.ok) return { message: `item ${i + 1}: expected ${r.expected}, found ${shown(item, field.type.secret)}` };
    values.push(r.value);
  }
  return { value: values };
}

export function validateDocument(doc: UciDocument): Validated {
  const file = doc.file;
  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const issue = (severity: 'error' | 'warning', line: number | null, section: string | null, option: string | null, message: string): void => {
    (severity === 'error' ? errors : warnings).push({ severity, file, line, section, option, message });
  };
  for (const w of doc.warnings) issue('warning', w.line, null, null, `column ${w.column}: ${w.message}`);

  const sections = doc.packages.flatMap((p) => p.sections);
  const used = new Map<SectionName, UciSection>();

  // Which section of the file is which schema section: exactly one per type, named as its type.
  for (const name of SECTION_NAMES) {
    const ofType = sections.filter((s) => s.type === name);
    const named = sections.find((s) => s.name === name);
    if (named && named.type !== name) {
      issue('error', named.line, name, null, `expected config ${name} '${name}', found config ${named.type} '${name}'`);
      continue;
    }
    // A repeated named section is merged as libuci merges it; the parser's warning says so.
    if (ofType.length > 1) {
      const where = ofType.map((s) => `${sectionRef(s)} at line ${s.line}`).join(', ');
      issue('error', ofType[1]!.line, name, null, `expected one section of type '${name}', found ${ofType.length}: ${where}`);
    }
    const s = named ?? ofType[0];
    if (!s) continue;
    if (s.name === null) {
      issue('warning', s.line, name, null, `anonymous 'config ${name}' is used as section '${name}': name it (config ${name} '${name}') so that 'uci set x0tta6bl4.${name}.…' finds it`);
    } else if (s.name !== name) {
      issue('error', s.line, name, null, `expected config ${name} '${name}', found config ${name} '${s.name}'`);
      continue;
    }
    used.set(name, s);
  }
  const known = new Set<UciSection>(used.values());
  for (const s of sections) {
    if (known.has(s) || isSectionName(s.type) || (s.name !== null && isSectionName(s.name))) continue;
    issue('warning', s.line, sectionRef(s), null, `unknown section type '${s.type}', ignored${suggest(s.type, SECTION_NAMES)}`);
  }

  const lineOf = new Map<string, number>();
  for (const [name, s] of used) {
    const fields = sectionFields(name);
    const byUci = new Map(fields.map(([key, f]) => [f.uci, [key, f] as const]));
    for (const o of s.options.values()) {
      const entry = byUci.get(o.name);
      const line = o.kind === 'option' ? o.line : o.lines[0]!;
      if (!entry) {
        issue('warning', line, name, o.name, `unknown option, ignored${suggest(o.name, [...byUci.keys()])}`);
        continue;
      }
      const [key, field] = entry;
      lineOf.set(`${name}.${o.name}`, line);
      if (o.alsoSetAt.length && field.kind === 'option')
        issue('warning', line, name, o.name, `set more than once (also at line ${o.alsoSetAt.join(', ')}): the value at line ${line} is used`);
      const r = parseField(field, rawOf(o));
      if ('message' in r) {
        issue('error', badLine(o, field), name, o.name, r.message);
        continue;
      }
      config[name]![key] = r.value;
    }
  }

  const lines: SourceLines = {
    section: (s) => used.get(s)?.line ?? null,
    option: (s, o) => lineOf.get(`${s}.${o}`) ?? null,
  };
  // An option that is already wrong on its own gets no second, cross-field complaint.
  const wrong = new Set(errors.map((i) => `${i.section}.${i.option}`));
  for (const i of crossCheck(config as unknown as AgentConfig, file, lines))
    if (!wrong.has(`${i.section}.${i.option}`)) (i.severity === 'error' ? errors : warnings).push(i);
  return { config: config as unknown as AgentConfig, errors, warnings };
}

function rawOf(o: UciOption): string | string[] {
  return o.kind === 'option' ? o.value : o.values;
}

/** For a list, the line of the first bad item; otherwise the option's line. */
function badLine(o: UciOption, field: Field<unknown>): number {
  if (o.kind === 'option') return o.line;
  if (field.kind === 'option') return o.lines[0]!;
  const i = o.values.findIndex((v) => !field.type.parse(v).ok);
  return o.lines[Math.max(0, i)]!;
}
