import { hashKey, keySnippet, newApiKey, newId, type IssuedKey } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import type { KeyRow, NewKey, RevokedRow } from "./repo";

/** What a mutating verb needs: the pool and the hook that announces a revocation. */
export interface KeyVerbDeps {
  sql: Sql;
  /** Called after the revoking transaction committed, before the answer returns. */
  onRevoked(row: RevokedRow): Promise<void>;
}

/** A fresh key: the plaintext (returned once) and the row that stores only its hash. */
export function mintKey(ownerId: string, label: string | null): { apiKey: string; row: NewKey } {
  const apiKey = newApiKey();
  return {
    apiKey,
    row: { id: newId("key"), owner_id: ownerId, key_hash: hashKey(apiKey), key_last4: apiKey.slice(-4), label },
  };
}

/** The wire form of a just-issued key. */
export function issued(apiKey: string, row: KeyRow): IssuedKey {
  return { apiKey, keyId: row.id, keySnippet: keySnippet(apiKey), createdAt: row.created_at.toISOString(), label: row.label };
}
