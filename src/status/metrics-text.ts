// Prometheus text exposition (format 0.0.4): the builder every room adds its metrics with,
// one HELP/TYPE header per metric name, label values escaped.
type Labels = Record<string, string>;

export class MetricsText {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  add(name: string, type: 'gauge' | 'counter', help: string, value: number, labels: Labels = {}): this {
    if (!this.declared.has(name)) {
      this.declared.add(name);
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    this.lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
