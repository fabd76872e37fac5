// The "under the hood" panel's source: the gateway's own audit lines (one JSON line per access
// decision). `sluice dev --demo` tees the app's log into a bounded in-memory feed; the tests read
// their stack's log. Only whitelisted fields leave it: never a token (the audit line has none).

export interface AuditRow {
  readonly time: number;
  readonly requestId: string | null;
  readonly subject: string | null;
  readonly store: string;
  readonly key: string;
  readonly action: string;
  readonly decision: string;
  readonly rule: string | null;
  readonly source: string;
  readonly cacheHit: boolean;
  readonly reason: string | null;
  readonly latencyMs: number;
}

export type AuditSource = () => Iterable<Record<string, unknown>>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A parsed log line → its audit row, or null for any other line. */
export function auditRow(line: Record<string, unknown>): AuditRow | null {
  const a = line.audit as Record<string, unknown> | undefined;
  if (a === undefined || typeof a !== 'object' || a === null) return null;
  return {
    time: typeof line.time === 'number' ? line.time : Date.now(),
    requestId: str(a.requestId),
    subject: str(a.subject),
    store: String(a.store ?? ''),
    key: String(a.key ?? ''),
    action: String(a.action ?? ''),
    decision: String(a.decision ?? ''),
    rule: str(a.rule),
    source: String(a.source ?? 'rule'),
    cacheHit: a.cacheHit === true,
    reason: str(a.reason),
    latencyMs: typeof a.latencyMs === 'number' ? a.latencyMs : 0,
  };
}

/** A bounded buffer of the latest audit lines, fed with raw JSON log lines. */
export function createAuditFeed(capacity = 500): { push(jsonLine: string): void; source: AuditSource } {
  const lines: Record<string, unknown>[] = [];
  return {
    push(jsonLine) {
      if (!jsonLine.includes('"audit"')) return;
      try {
        lines.push(JSON.parse(jsonLine) as Record<string, unknown>);
        if (lines.length > capacity) lines.splice(0, lines.length - capacity);
      } catch {
        // not a JSON line: ignore
      }
    },
    source: () => lines,
  };
}
