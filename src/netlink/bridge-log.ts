// The bridge's stderr and error reports, kept in memory within fixed bounds: a bridge that
// spews cannot grow the agent, and the last lines explain why it died.
export class BoundedLog {
  private lines: string[] = [];
  private partial = '';

  constructor(
    private readonly maxLines = 200,
    private readonly maxLineChars = 400,
  ) {}

  add(line: string): void {
    const l = line.length > this.maxLineChars ? `${line.slice(0, this.maxLineChars)}…` : line;
    this.lines.push(l);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  /** Feeds raw stderr bytes; complete lines are stored, a trailing fragment waits. */
  write(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxLineChars) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const p of parts) if (p.length) this.add(p);
  }

  snapshot(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }

  last(): string | undefined {
    return this.partial || this.lines[this.lines.length - 1];
  }
}
