import { AppError, KEY_PREFIX, type CurrentKey } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { findActive, withDb } from "./repo";

/** The owner's active key, as `GET /api/v1/keys/` shows it (never the plaintext). */
export async function currentKey(deps: { sql: Sql }, ownerId: string): Promise<CurrentKey> {
  const row = await withDb(() => findActive(deps.sql, ownerId));
  if (!row) throw new AppError("KEY_NOT_FOUND", "No active API key. Create one with POST /api/v1/keys/generate.");
  return {
    keyId: row.id,
    keySnippet: `${KEY_PREFIX}...${row.key_last4}`,
    status: "ACTIVE",
    createdAt: row.created_at.toISOString(),
    label: row.label,
    lastUsedAt: row.last_used_at ? row.last_used_at.toISOString() : null,
  };
}
