import { AppError, type CurrentKey } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import type { DbHealth } from "../db-health";
import type { CurrentKeyCache } from "./current-cache";
import type { OwnerInput } from "./issue";
import { policyView, quotaOf, type QuotaReader } from "./policy";
import { findActive, findInGrace, withDb, type KeyRow, snippetFor } from "./repo";

export interface CurrentDeps {
  sql: Sql;
  current: CurrentKeyCache;
  db: DbHealth;
  quota: QuotaReader;
}

const noKey = () => new AppError("KEY_NOT_FOUND", "No active API key. Create one with POST /api/v1/keys/generate.");

/** How long a shown quota.used may be reused: "used in GET is within 5 s of the truth" (the limits' own reporting lag comes on top). */
const QUOTA_FRESH_MS = 2_000;

/** The slot's active key, as `GET /api/v1/keys/` shows it (never the plaintext). */
export async function currentKey(deps: CurrentDeps, input: OwnerInput): Promise<CurrentKey> {
  const now = Date.now();
  // While Postgres is presumed down, report it (503) rather than vouch from memory.
  if (!deps.db.isDown(now)) {
    const hit = deps.current.get(input, now);
    if (hit !== undefined) {
      if (hit === null) throw noKey();
      return hit;
    }
  }
  const generation = deps.current.generation;
  deps.current.dbReads++;
  let view: CurrentKey | null;
  try {
    view = await withDb(async () => {
      const row = await findActive(deps.sql, input);
      return row ? viewOf(deps, row, Date.now()) : null;
    });
  } catch (err) {
    if (err instanceof AppError && err.code === "DATABASE_UNAVAILABLE") {
      deps.db.markDown();
      deps.current.clear();
    }
    throw err;
  }
  deps.current.set(input, view, generation, Date.now(), view ? freshFor(view, Date.now()) : undefined);
  if (view === null) throw noKey();
  return view;
}

/** A key's full answer: the spec's fields, its policy, its predecessor in grace and its quota use. */
export async function viewOf(deps: Pick<CurrentDeps, "sql" | "quota">, row: KeyRow, now: number): Promise<CurrentKey> {
  const [previous, quota] = await Promise.all([findInGrace(deps.sql, slotOf(row)), quotaOf(deps.quota, row, now)]);
  return {
    keyId: row.id,
    keySnippet: snippetFor(row),
    status: "ACTIVE",
    createdAt: row.created_at.toISOString(),
    label: row.label,
    lastUsedAt: row.last_used_at ? row.last_used_at.toISOString() : null,
    ...policyView(row, previous, quota),
  };
}

const slotOf = (row: KeyRow) => ({ ownerId: row.owner_id, mode: row.mode });

/** How long a view may be served from the cache: less when it shows a quota's use or a grace period about to end. */
function freshFor(view: CurrentKey, now: number): number | undefined {
  let ms: number | undefined = view.quota ? QUOTA_FRESH_MS : undefined;
  if (view.previousKey) {
    const left = Date.parse(view.previousKey.expiresAt) - now;
    ms = ms === undefined ? left : Math.min(ms, left);
  }
  return ms;
}
