import { hashKey, keySnippet, type IssuedKey, type PolicyView } from "@riskinmind/contracts";
import { newApiKey, newId } from "./mint";
import type { Sql } from "@riskinmind/runtime";
import type { KeyChanges } from "../events/key-events";
import type { KeyRow, NewKey } from "./repo";

/** What a mutating verb needs: the pool and the events that announce a change. */
export interface KeyVerbDeps {
  sql: Sql;
  events: KeyChanges;
}

/** Every verb's input: the authenticated owner, plus what the verb takes. */
export interface OwnerInput {
  ownerId: string;
}
export interface IssueInput extends OwnerInput {
  label: string | null;
}

/** The policy view of a key without restrictions (placeholder until policies are stored). */
export const NO_POLICY: PolicyView = { mode: "live", expiresAt: null, scopes: ["*"], ipAllowlist: [], rateLimit: null, quota: null, previousKey: null };

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
  return { apiKey, keyId: row.id, keySnippet: keySnippet(apiKey), createdAt: row.created_at.toISOString(), label: row.label, ...NO_POLICY };
}
