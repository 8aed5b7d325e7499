// Spans of one operator command: received → checked → executed → replied, under the trace the
// operator put in the signed envelope (W3C or B3, command-envelope.ts) or a new one. Commands
// refused before their signature verified are not traced: anyone can send those, and a flood of
// them must not become a flood of spans.
import type { Span, SpanContext, Tracer } from '../tracing/api.ts';
import { extractContext } from '../tracing/propagation.ts';
import { parseEnvelope, type CommandEnvelope, type CommandRejected, type RejectCode } from './command-envelope.ts';

/** Refusals made after the signature verified: the sender is a fleet operator. */
const SIGNED_REFUSALS: ReadonlySet<RejectCode> = new Set(['replay', 'busy', 'bad-args']);

export class CommandTrace {
  private readonly receivedAt = Date.now();
  private root: Span | null = null;
  private execute: Span | null = null;
  private executedAt: number | null = null;

  private constructor(
    private readonly tracer: Tracer,
    private readonly name: string,
  ) {}

  /** null while tracing is off: the command path then does nothing more than before. */
  static begin(tracer: Tracer | undefined, name: string): CommandTrace | null {
    return tracer?.enabled ? new CommandTrace(tracer, name) : null;
  }

  private open(env: CommandEnvelope, signer: string | null): Span {
    const parent = env.trace ? extractContext(env.trace) : undefined;
    const root = this.tracer.startSpan(`command ${this.name}`, {
      kind: 'server',
      startTimeMs: this.receivedAt,
      ...(parent ? { parent } : {}),
      attributes: {
        'x0tta6bl4.command': this.name,
        'x0tta6bl4.command.args': JSON.stringify(env.args).slice(0, 256),
        'messaging.system': 'mqtt',
        'messaging.operation.type': 'process',
        'messaging.message.id': env.nonce,
        ...(signer ? { 'x0tta6bl4.signer': signer } : {}),
      },
    });
    this.tracer.startSpan('command.receive', { parent: root.context, startTimeMs: this.receivedAt }).end(this.receivedAt);
    return root;
  }

  /** Checked and accepted: the check span, and the execute span the handler's work goes under. */
  accepted(env: CommandEnvelope, signer: string): SpanContext {
    const root = (this.root = this.open(env, signer));
    const now = Date.now();
    this.tracer.startSpan('command.check', { parent: root.context, startTimeMs: this.receivedAt }).end(now);
    this.execute = this.tracer.startSpan('command.execute', { parent: root.context, startTimeMs: now, attributes: { 'x0tta6bl4.command': this.name } });
    return this.execute.context;
  }

  /** Refused: traced only when the refusal came after the signature verified. */
  rejected(raw: Uint8Array, e: CommandRejected): void {
    if (!SIGNED_REFUSALS.has(e.code) || this.root) return;
    let env: CommandEnvelope;
    try {
      env = parseEnvelope(raw);
    } catch {
      return;
    }
    const root = (this.root = this.open(env, null));
    const check = this.tracer.startSpan('command.check', { parent: root.context, startTimeMs: this.receivedAt, attributes: { 'x0tta6bl4.command.code': e.code } });
    check.setStatus('error', `${e.code}: ${e.message}`);
    check.end();
  }

  /** The handler returned (ok) or threw (code). */
  executed(ok: boolean, code?: string, message?: string): void {
    if (!this.execute) return;
    this.executedAt = Date.now();
    if (!ok) this.execute.setStatus('error', `${code ?? 'failed'}: ${message ?? ''}`);
    this.execute.end();
    this.execute = null;
  }

  /** The reply went out (or could not: offline); ends the command's trace. */
  replied(ok: boolean, code?: string): void {
    const root = this.root;
    if (!root) return;
    this.executed(ok, code);
    const span = this.tracer.startSpan('command.reply', { parent: root.context, kind: 'producer', startTimeMs: this.executedAt ?? Date.now(), attributes: { 'x0tta6bl4.command.ok': ok, ...(code ? { 'x0tta6bl4.command.code': code } : {}) } });
    span.end();
    if (!ok) root.setStatus('error', code ?? 'failed');
    root.end();
    this.root = null;
  }
}
