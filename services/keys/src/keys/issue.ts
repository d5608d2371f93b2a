import { hashKey, keySnippet, type IssuedKey } from "@riskinmind/contracts";
import { newApiKey, newId } from "./mint";
import type { Sql } from "@riskinmind/runtime";
import type { KeyRow, NewKey, RevokedRow } from "./repo";

/** What a mutating verb needs: the pool and the hook that announces a change. */
export interface KeyVerbDeps {
  sql: Sql;
  /**
   * Called after a transaction that changed the owner's active key committed,
   * before the answer returns: drops cached answers here and on every replica.
   * `revoked` is the key it ended, if any.
   */
  afterChange(ownerId: string, revoked: RevokedRow | undefined): Promise<void>;
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
