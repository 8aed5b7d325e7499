// Reading /etc/config/x0tta6bl4: file problems (missing, unreadable, not a file, too big) and
// syntax errors become a ConfigError with one issue; schema problems, all of them at once.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
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
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fileIssue(path, 'file not found');
    if (code === 'EACCES' || code === 'EPERM') throw fileIssue(path, 'permission denied: cannot read the config file (run as root, or check its mode)');
    if (code === 'ENOTDIR') throw fileIssue(path, 'file not found (a parent of the path is not a directory)');
    throw fileIssue(path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    // A FIFO or a device (/dev/zero) would block or never end: only regular files are configs.
    if (st.isDirectory()) throw fileIssue(path, 'is a directory, not a config file');
    if (!st.isFile()) throw fileIssue(path, 'is not a regular file');
    if (st.size > MAX_UCI_BYTES)
      throw fileIssue(path, `is ${st.size} bytes; a config file is at most ${MAX_UCI_BYTES / 1024} KiB (is this the right file?)`);
    // Read at most one byte past the limit, so a file that grows while we read stays bounded.
    const buf = Buffer.alloc(Math.min(st.size, MAX_UCI_BYTES) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw fileIssue(path, `cannot read: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
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
