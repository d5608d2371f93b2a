import { hashKey, isWellFormedKey, LEAK_RECORDED_MAX_CHARS, type Actor } from "@riskinmind/contracts";
import { redactSecrets, type Sql } from "@riskinmind/runtime";
import { recordChange, type OutboxNudge, type RequestMeta } from "../audit/record";
import type { KeyChanges } from "../events/key-events";
import { findByHashes, lockOwner, revokeKeyNow, withDb } from "../keys/repo";

/** What revoking leaked keys needs: the pool, the cache invalidation, and the outbox publisher to wake. */
export interface LeakDeps {
  sql: Sql;
  events: KeyChanges;
  outbox: OutboxNudge;
}

export interface LeakInput {
  /** The reported tokens, in any order, duplicates allowed (each distinct token is handled once). */
  tokens: readonly string[];
  /** Who reported them: `github:<key identifier>` or `revoke-by-value`. */
  actor: Actor;
  request: RequestMeta;
  /** Extra audit fields for a token (where it was found); only called for a key that is revoked now. */
  context?: (token: string) => Record<string, unknown>;
}

/** Report text as the audit entry keeps it: bounded, and anything shaped like a key or a JWT removed. */
export const recordedText = (text: string): string => redactSecrets(text.slice(0, LEAK_RECORDED_MAX_CHARS));

/**
 * Revokes every active key among the tokens at once, and ends the grace
 * period of a rotated-out one, each in a transaction holding its owner's lock
 * with its audit entry and `key.leaked` event; every replica and guard drops
 * it before this returns. Answers the hex SHA-256 of every token that is a key
 * this service issued, whatever its status. Every token is hashed and one
 * lookup runs even when none is well-formed, so the work done says little.
 */
export async function revokeLeaked(deps: LeakDeps, input: LeakInput): Promise<Set<string>> {
  const byHash = new Map<string, string>();
  for (const token of input.tokens) {
    const hash = hashKey(token).toString("hex");
    // A malformed token cannot be a key: the checksum refuses it without a lookup.
    if (isWellFormedKey(token) && !byHash.has(hash)) byHash.set(hash, token);
  }
  const found = await withDb(() =>
    findByHashes(
      deps.sql,
      [...byHash.keys()].map((h) => Buffer.from(h, "hex")),
    ),
  );
  const ours = new Set(found.map((r) => r.key_hash.toString("hex")));
  for (const key of found) {
    const token = byHash.get(key.key_hash.toString("hex"))!;
    const revoked = await withDb(() =>
      deps.sql.begin(async (tx) => {
        await lockOwner(tx, key.owner_id);
        // Under the lock: a key revoked or rotated since the lookup is judged as it is now.
        const row = await revokeKeyNow(tx, key.id);
        if (!row) return undefined;
        await recordChange(tx, {
          ownerId: row.owner_id,
          keyId: row.id,
          mode: row.mode,
          action: "key.leak_revoked",
          actor: input.actor,
          request: input.request,
          changes: { ...input.context?.(token), ended: row.was === "ACTIVE" ? "active" : "grace_period" },
        });
        return row;
      }),
    );
    if (!revoked) continue;
    await deps.events.changed(revoked.owner_id, [revoked]);
    deps.outbox.nudge();
  }
  return ours;
}
