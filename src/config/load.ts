// Reading /etc/config/x0tta6bl4: file problems (missing, unreadable, not a file, too big) and
// syntax errors become a ConfigError with one issue; schema problems, all of them at once.
import { readRegularFile, SafeReadError } from '../flash/safe-read.ts';
import { ConfigError, type ConfigIssue } from './config-error.ts';
import type { AgentConfig } from './schema.ts';
import { MAX_UCI_BYTES, parseUci, UciSyntaxError } from './uci-parser.ts';
import { validateDocument } from './validate.ts';

export interface LoadedConfig {
  config: AgentConfig;
  warnings: ConfigIssue[];
}

/** The UCI package name; sections before any `package` line belong to it whatever the file is called. */
export const PACKAGE_NAME = 'x0tta6bl4';

function fileIssue(file: string, message: string): ConfigError {
  return new ConfigError(file, [{ severity: 'error', file, line: null, section: null, option: null, message }], [], `${file}: ${message}`);
}

function readConfigFile(path: string): Uint8Array {
  let bytes: Buffer | null;
  try {
    bytes = readRegularFile(path, { maxBytes: MAX_UCI_BYTES });
  } catch (e) {
    if (!(e instanceof SafeReadError)) throw e;
    if (e.code === 'EACCES' || e.code === 'EPERM') throw fileIssue(path, 'permission denied: cannot read the config file (run as root, or check its mode)');
    if (e.code === 'ENOTDIR') throw fileIssue(path, 'file not found (a parent of the path is not a directory)');
    if (e.code === 'EFBIG') throw fileIssue(path, `${e.reason} (is this the right file?)`);
    throw fileIssue(path, e.reason);
  }
  if (!bytes) throw fileIssue(path, 'file not found');
  return bytes;
}

/** Parses and validates config text; throws ConfigError carrying every issue if there is any error. */
export function parseConfigText(text: string | Uint8Array, fileName = '<config>'): LoadedConfig {
  let doc;
  try {
    doc = parseUci(text, { file: fileName, packageName: PACKAGE_NAME, single: true });
  } catch (e) {
    if (!(e instanceof UciSyntaxError)) throw e;
    const issue: ConfigIssue = {
      severity: 'error',
      file: fileName,
      line: e.line,
      section: null,
      option: null,
      message: `syntax error at column ${e.column}: expected ${e.expected}, found ${e.found}`,
    };
    throw new ConfigError(fileName, [issue]);
  }
  const { config, errors, warnings } = validateDocument(doc);
  if (errors.length) throw new ConfigError(fileName, errors, warnings);
  return { config, warnings };
}

/** Loads /etc/config/x0tta6bl4 (or another path). Throws ConfigError; never a raw fs error. */
export function loadConfig(path: string): LoadedConfig {
  return parseConfigText(readConfigFile(path), path);
}
