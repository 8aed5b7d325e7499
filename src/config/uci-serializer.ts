// Writes UCI text the way `uci export` (libuci's uci_export_package) does: a blank line before
// each `config`, options indented by a tab, every value single-quoted with ' written as '\''.
// It refuses what it could not read back (bad names, control characters), so whatever it
// writes parses to the same document.
import { UCI_NAME, UCI_PACKAGE_NAME, UCI_TYPE, type UciDocument, type UciPackage } from './uci-document.ts';

export class UciSerializeError extends Error {
  override readonly name = 'UciSerializeError';
}

export interface UciSerializeOptions {
  /** Write `package <name>` before each package, as `uci export` does. Files in /etc/config have none. Default true. */
  header?: boolean;
}

const CONTROL = /[\x00-\x08\x0e-\x1f]/;

/** A value in single quotes; a single quote inside ends the quote, adds \' and reopens it. */
export function quoteUci(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

// libuci writes the type bare; one with a quote, backslash, '#' or ';' would then not read
// back, so such a (rare) type is quoted instead.
function writeType(type: string): string {
  return /['"\\#;]/.test(type) ? quoteUci(type) : type;
}

function checkValue(where: string, value: string): void {
  const bad = CONTROL.exec(value);
  if (bad) throw new UciSerializeError(`${where}: value contains control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function serializeUci(input: UciDocument | UciPackage | UciPackage[], options: UciSerializeOptions = {}): string {
  const pkgs = Array.isArray(input) ? input : 'packages' in input ? input.packages : [input];
  const header = options.header ?? true;
  let out = '';
  for (const p of pkgs) {
    if (header) {
      if (!UCI_PACKAGE_NAME.test(p.name)) throw new UciSerializeError(`invalid package name '${p.name}'`);
      out += `package ${p.name}\n`;
    }
    for (const s of p.sections) {
      if (!UCI_TYPE.test(s.type)) throw new UciSerializeError(`invalid section type '${s.type}'`);
      if (s.name !== null && !UCI_NAME.test(s.name)) throw new UciSerializeError(`invalid section name '${s.name}'`);
      out += `\nconfig ${writeType(s.type)}${s.name !== null ? ` ${quoteUci(s.name)}` : ''}\n`;
      for (const o of s.options.values()) {
        if (!UCI_NAME.test(o.name)) throw new UciSerializeError(`invalid option name '${o.name}' in section '${s.name ?? s.type}'`);
        const where = `${p.name}.${s.name ?? s.type}.${o.name}`;
        if (o.kind === 'option') {
          // uci never stores an empty option (setting one deletes it), and reading one back ignores it.
          if (o.value === '') continue;
          checkValue(where, o.value);
          out += `\toption ${o.name} ${quoteUci(o.value)}\n`;
        } else {
          for (const v of o.values) {
            checkValue(where, v);
            out += `\tlist ${o.name} ${quoteUci(v)}\n`;
          }
        }
      }
    }
    out += '\n';
  }
  return out;
}
