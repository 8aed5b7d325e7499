// A broker URL as it may be shown or logged: credentials in it (mqtt://user:pass@host,
// ?password=...) are replaced by ***. The agent refuses such URLs, but it still names them in
// /status, /health, logs and `fleet` output, which less trusted eyes read.
const SECRET_PARAM = /pass|pwd|secret|token|key|auth|sig/i;

export function redactUrl(raw: string): string {
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {
    /* not a URL: see below */
  }
  // Not a URL with a host ('user:pw@host', 'mqtt//u:p@h'): anything before an @ may be secret.
  if (!u?.host)
    return raw.replace(/[^/?#\s@]+@/g, '***@').replace(/([?&][^=&#]*(?:pass|pwd|secret|token|key|auth|sig)[^=&#]*=)[^&#]*/gi, '$1***');
  let changed = false;
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
    changed = true;
  }
  for (const k of [...u.searchParams.keys()])
    if (SECRET_PARAM.test(k)) {
      u.searchParams.set(k, '***');
      changed = true;
    }
  // Unchanged URLs are shown exactly as written, without URL normalisation.
  return changed ? u.href : raw;
}
