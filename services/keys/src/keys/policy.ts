/**
 * A key's policy as the keys service stores and shows it: what a body asks
 * for (generate, regenerate, PATCH) becomes columns, columns become the view.
 * A field the body leaves out keeps the base's value (the old key's on a
 * regenerate, the current one's on PATCH); `null` resets it to "no restriction".
 */
import { ALL_SCOPES, AppError, canonicalIpRange, policyProblem, quotaWindow, snippetOf, type PolicyInput, type PolicyView, type QuotaPeriod } from "@riskinmind/contracts";
import type { KeyRow, PolicyColumns } from "./repo";

export const NO_RESTRICTIONS: PolicyColumns = {
  expires_at: null,
  scopes: [ALL_SCOPES],
  ip_allowlist: [],
  rate_limit: null,
  rate_window_s: null,
  quota_limit: null,
  quota_period: null,
  quota_anchor_day: null,
};

/** The policy columns of an existing key, to build on. */
export function policyOf(row: PolicyColumns): PolicyColumns {
  const { expires_at, scopes, ip_allowlist, rate_limit, rate_window_s, quota_limit, quota_period, quota_anchor_day } = row;
  return { expires_at, scopes, ip_allowlist, rate_limit, rate_window_s, quota_limit, quota_period, quota_anchor_day };
}

/**
 * `base` with what the body names applied, after the checks the schema cannot
 * make (400 VALIDATION_ERROR, nothing changed). Allowlist entries are stored
 * in their canonical spelling, so `10.0.0.0/8` and `10.0.0.0/08` are one entry.
 * Setting a quota (even to the same values) anchors its monthly reset day to today (UTC).
 */
export function applyPolicy(input: PolicyInput, base: PolicyColumns, now: number): PolicyColumns {
  const problem = policyProblem(input, now);
  if (problem !== null) throw new AppError("VALIDATION_ERROR", `Invalid body: ${problem}`);
  const out = { ...base };
  if (input.expiresAt !== undefined) out.expires_at = input.expiresAt === null ? null : new Date(input.expiresAt);
  if (input.scopes !== undefined) out.scopes = input.scopes ?? [ALL_SCOPES];
  if (input.ipAllowlist !== undefined) out.ip_allowlist = [...new Set((input.ipAllowlist ?? []).map((e) => canonicalIpRange(e)!))];
  if (input.rateLimit !== undefined) {
    out.rate_limit = input.rateLimit?.limit ?? null;
    out.rate_window_s = input.rateLimit?.windowSeconds ?? null;
  }
  if (input.quota !== undefined) {
    out.quota_limit = input.quota?.limit ?? null;
    out.quota_period = input.quota?.period ?? null;
    out.quota_anchor_day = input.quota ? new Date(now).getUTCDate() : null;
  }
  return out;
}

/** True when the body names any policy field (a regenerate that names none carries every policy over). */
export function namesPolicy(input: PolicyInput): boolean {
  return (["expiresAt", "scopes", "ipAllowlist", "rateLimit", "quota"] as const).some((f) => input[f] !== undefined);
}

/** What a regenerate carries over from the key it replaces: everything, but an expiry already past (the new key would be born expired). */
export function carriedOver(old: PolicyColumns | undefined, now: number): PolicyColumns {
  if (old === undefined) return NO_RESTRICTIONS;
  const p = policyOf(old);
  if (p.expires_at !== null && p.expires_at.getTime() <= now) p.expires_at = null;
  return p;
}

export interface QuotaState {
  used: number;
  resetsAt: string;
}

/** How many units of the slot's quota the current period has used: the limits feature answers it. */
export type QuotaReader = (slot: { ownerId: string; mode: KeyRow["mode"] }, quota: { limit: number; period: QuotaPeriod; anchorDay: number }, now: number) => Promise<QuotaState>;

/** Until the limits feature is wired: nothing used, the period's end from the contract's arithmetic. */
export const zeroQuotaReader: QuotaReader = async (_slot, q, now) => ({ used: 0, resetsAt: new Date(quotaWindow(q.period, q.anchorDay, now).end).toISOString() });

export type PreviousKeyRow = Pick<KeyRow, "id" | "key_last4" | "grace_until" | "expires_at">;

/** The policy part of a key's answer (GET, generate, regenerate, PATCH). */
export function policyView(row: KeyRow, previous: PreviousKeyRow | undefined, quota: QuotaState | null): PolicyView {
  return {
    mode: row.mode,
    expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
    scopes: row.scopes,
    ipAllowlist: row.ip_allowlist,
    rateLimit: row.rate_limit !== null && row.rate_window_s !== null ? { limit: row.rate_limit, windowSeconds: row.rate_window_s } : null,
    quota: row.quota_limit !== null && row.quota_period !== null && quota !== null ? { limit: row.quota_limit, period: row.quota_period, ...quota } : null,
    previousKey: previous?.grace_until ? { keyId: previous.id, keySnippet: snippetOf(row.mode, previous.key_last4), expiresAt: graceEnd(previous)!.toISOString() } : null,
  };
}

/** When a rotated-out key stops working: its grace end, or its own expiry if sooner. */
export function graceEnd(k: Pick<KeyRow, "grace_until" | "expires_at">): Date | null {
  if (k.grace_until === null) return null;
  return k.expires_at !== null && k.expires_at < k.grace_until ? k.expires_at : k.grace_until;
}

/** Reads the quota state of a row, when it has a quota. */
export async function quotaOf(read: QuotaReader, row: KeyRow, now: number): Promise<QuotaState | null> {
  if (row.quota_limit === null || row.quota_period === null || row.quota_anchor_day === null) return null;
  return read({ ownerId: row.owner_id, mode: row.mode }, { limit: row.quota_limit, period: row.quota_period, anchorDay: row.quota_anchor_day }, now);
}
