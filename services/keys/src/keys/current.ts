import { AppError, KEY_PREFIX, type CurrentKey } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import type { DbHealth } from "../db-health";
import type { CurrentKeyCache } from "./current-cache";
import { NO_POLICY, type OwnerInput } from "./issue";
import { findActive, withDb, type KeyRow } from "./repo";

export interface CurrentDeps {
  sql: Sql;
  current: CurrentKeyCache;
  db: DbHealth;
}

const noKey = () => new AppError("KEY_NOT_FOUND", "No active API key. Create one with POST /api/v1/keys/generate.");

/** The owner's active key, as `GET /api/v1/keys/` shows it (never the plaintext). */
export async function currentKey(deps: CurrentDeps, { ownerId }: OwnerInput): Promise<CurrentKey> {
  const now = Date.now();
  // While Postgres is presumed down, report it (503) rather than vouch from memory.
  if (!deps.db.isDown(now)) {
    const hit = deps.current.get(ownerId, now);
    if (hit !== undefined) {
      if (hit === null) throw noKey();
      return hit;
    }
  }
  const generation = deps.current.generation;
  deps.current.dbReads++;
  let row: KeyRow | undefined;
  try {
    row = await withDb(() => findActive(deps.sql, ownerId));
  } catch (err) {
    if (err instanceof AppError && err.code === "DATABASE_UNAVAILABLE") {
      deps.db.markDown();
      deps.current.clear();
    }
    throw err;
  }
  const view = row ? toView(row) : null;
  deps.current.set(ownerId, view, generation, Date.now());
  if (view === null) throw noKey();
  return view;
}

function toView(row: KeyRow): CurrentKey {
  return {
    keyId: row.id,
    keySnippet: `${KEY_PREFIX}...${row.key_last4}`,
    status: "ACTIVE",
    createdAt: row.created_at.toISOString(),
    label: row.label,
    lastUsedAt: row.last_used_at ? row.last_used_at.toISOString() : null,
    ...NO_POLICY,
  };
}
