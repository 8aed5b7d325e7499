// What is wrong (or odd) in a config, said so that an operator can fix it: the file, the line
// of the option (or of its section when the option is missing), what was expected and found.

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
    super(summary ?? describeIssues(file, issues));
  }
}

export function formatConfigIssue(i: ConfigIssue): string {
  const where = [i.section, i.option].filter(Boolean).join('.');
  return `${i.file}${i.line ? `:${i.line}` : ''}: ${where ? `${where}: ` : ''}${i.message}`;
}

function describeIssues(file: string, issues: ConfigIssue[]): string {
  if (issues.length === 0) return `${file}: invalid config`;
  const head = `${file}: ${issues.length} error${issues.length === 1 ? '' : 's'}`;
  return [head, ...issues.map((e) => `  ${formatConfigIssue(e)}`)].join('\n');
}
