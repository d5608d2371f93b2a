import type { KeyMode } from "@riskinmind/contracts";
import type { ISql } from "postgres";

/** What keys.lookup tells of a key: its owner and its mode, both fixed for the key's life. */
export interface LookupRow {
  id: string;
  owner_id: string;
  mode: KeyMode;
}

/**
 * The keys with these ids, whatever their status (a call made just before a
 * revocation is still billed to its owner, under its key's mode).
 */
export async function lookupKeys(sql: ISql, ids: string[]): Promise<LookupRow[]> {
  return sql<LookupRow[]>`select id, owner_id, mode from keys.api_keys where id = any(${ids}::text[])`;
}
