import { createHash } from "node:crypto";
import type { Actor, AuditEntry, KeyMode } from "@riskinmind/contracts";

/** The fields of an audit entry that its hash covers: all of them but the hash itself. */
export interface ChainedEntry {
  id: string;
  ownerId: string;
  seq: number;
  action: string;
  keyId: string;
  mode: string;
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Milliseconds precision: what the hash saw is what the row holds. */
  at: Date;
  changes: Record<string, unknown>;
  prevHash: Buffer | null;
}

/**
 * JSON with object keys sorted at every depth: jsonb gives keys back in its
 * own order, and the hash must not depend on it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
}

/**
 * SHA-256 of an entry's canonical form: a JSON array of every field in a
 * fixed order, the previous hash as hex. Changing any field, the order of
 * entries, or the link to the previous entry changes it.
 */
export function auditEntryHash(e: ChainedEntry): Buffer {
  const form = canonicalJson([
    "riskinmind-audit-v1",
    e.id,
    e.ownerId,
    e.seq,
    e.action,
    e.keyId,
    e.mode,
    e.actor,
    e.ip,
    e.userAgent,
    e.requestId,
    e.at.toISOString(),
    e.changes,
    e.prevHash ? e.prevHash.toString("hex") : null,
  ]);
  return createHash("sha256").update(form).digest();
}

/** The wire form of an entry (GET /audit, recordChange's answer): times as ISO, hashes as hex. */
export function entryView(e: ChainedEntry, hash: Buffer): AuditEntry {
  return {
    id: e.id,
    action: e.action,
    keyId: e.keyId,
    mode: e.mode as KeyMode,
    actor: e.actor,
    ip: e.ip,
    userAgent: e.userAgent,
    requestId: e.requestId,
    at: e.at.toISOString(),
    changes: e.changes,
    prevHash: e.prevHash ? e.prevHash.toString("hex") : null,
    hash: hash.toString("hex"),
  };
}
