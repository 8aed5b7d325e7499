// What is wrong (or odd) in a config, said so that an operator can fix it: the file, the line
// of the option (or of its section when the option is missing), what was expected and found.
// Every message is one line with non-printable characters escaped: it ends up in a terminal,
// syslog or an MQTT reply, where a raw newline or U+202E would forge or hide text.
import { escapePrintable } from './printable.ts';

export interface ConfigIssue {
  severity: 'error' | 'warning';
  file: string;
  /** 1-based; null when there is no line to point at (a missing section, a runtime `set`). */
  line: number | null;
  /** UCI section name, e.g. 'telemetry'; null for file-level problems. */
  section: string | null;
  /** UCI option name, e.g. 'broker'. */
  option: string | null;
  message: string;
}

/** A config that must not be used: `issues` holds every error found, `warnings` the rest. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
    readonly warnings: ConfigIssue[] = [],
    summary?: string,
  ) {
    super(escapePrintable(summary ?? describeIssues(file, issues)));
  }
}

export function formatConfigIssue(i: ConfigIssue): string {
  const where = [i.section, i.option].filter(Boolean).join('.');
  return escapePrintable(`${i.file}${i.line ? `:${i.line}` : ''}: ${where ? `${where}: ` : ''}${i.message}`);
}

/** How many issues a one-line summary spells out; the rest are counted. */
const SHOWN_ISSUES = 5;

/** All issues on one line: "2 errors: a; b", the first few spelled out and the rest counted. */
export function summarizeIssues(issues: ConfigIssue[]): string {
  const shown = issues.slice(0, SHOWN_ISSUES).map(formatConfigIssue);
  const more = issues.length - shown.length;
  const list = `${shown.join('; ')}${more ? `; and ${more} more` : ''}`;
  return issues.length === 1 ? list : `${issues.length} errors: ${list}`;
}

function describeIssues(file: string, issues: ConfigIssue[]): string {
  if (issues.length === 0) return escapePrintable(`${file}: invalid config`);
  return summarizeIssues(issues);
}
