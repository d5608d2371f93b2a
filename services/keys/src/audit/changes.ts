import type { PolicyColumns } from "../keys/repo";
import { NO_RESTRICTIONS } from "../keys/policy";
import { canonicalJson } from "./chain";

/** A key's label and policy as an audit entry names them: the wire field names, never the key, its hash or a secret. */
export type AuditedFields = Record<"label" | "expiresAt" | "scopes" | "ipAllowlist" | "rateLimit" | "quota", unknown>;

export function auditedFields(label: string | null, p: PolicyColumns): AuditedFields {
  return {
    label,
    expiresAt: p.expires_at ? p.expires_at.toISOString() : null,
    scopes: p.scopes,
    ipAllowlist: p.ip_allowlist,
    rateLimit: p.rate_limit !== null && p.rate_window_s !== null ? { limit: p.rate_limit, windowSeconds: p.rate_window_s } : null,
    // The anchor day is part of it: setting a quota again (same limit) moves its monthly reset, a change worth recording.
    quota: p.quota_limit !== null && p.quota_period !== null ? { limit: p.quota_limit, period: p.quota_period, anchorDay: p.quota_anchor_day } : null,
  };
}

const NOTHING = auditedFields(null, NO_RESTRICTIONS);

/** The fields a new key sets, as `field: value`: those that differ from a key without label or restrictions. */
export function setFields(label: string | null, p: PolicyColumns): Record<string, unknown> {
  const now = auditedFields(label, p);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(now)) if (canonicalJson(v) !== canonicalJson(NOTHING[k as keyof AuditedFields])) out[k] = v;
  return out;
}

/** `field: { from, to }` for each field that differs; an unchanged field is absent. */
export function diffFields(before: AuditedFields, after: AuditedFields): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of Object.keys(after) as (keyof AuditedFields)[]) {
    if (canonicalJson(before[k]) !== canonicalJson(after[k])) out[k] = { from: before[k], to: after[k] };
  }
  return out;
}
