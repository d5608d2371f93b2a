import { hashKey, keySnippet, type IssuedKey, type KeyMode, type PolicyView } from "@riskinmind/contracts";
import { newApiKey, newId } from "./mint";
import type { Sql } from "@riskinmind/runtime";
import type { OutboxNudge, RequestMeta } from "../audit/record";
import type { KeyChanges } from "../events/key-events";
import type { QuotaReader } from "./policy";
import type { KeyRow, NewKey, PolicyColumns } from "./repo";

/** What a mutating verb needs: the pool, the events that announce a change, and the quota reader its answer shows. */
export interface KeyVerbDeps {
  sql: Sql;
  events: KeyChanges;
  quota: QuotaReader;
  /** The key-events publisher, nudged after each commit that recorded a change. */
  outbox: OutboxNudge;
}

/** Every verb's input: the authenticated owner and the key slot (`?mode=`), plus what the verb takes. */
export interface OwnerInput {
  ownerId: string;
  mode: KeyMode;
  /** Where the request came from (peer address, User-Agent, request id), for the audit entry. */
  request?: RequestMeta;
}

/** The actor of every owner verb: the JWT's subject. */
export const ownerActor = (ownerId: string) => ({ type: "owner" as const, id: ownerId });

/** A fresh key: the plaintext (returned once) and the row that stores only its hash. */
export function mintKey({ ownerId, mode }: OwnerInput, label: string | null, policy: PolicyColumns): { apiKey: string; row: NewKey } {
  const apiKey = newApiKey(mode);
  return {
    apiKey,
    row: { id: newId("key"), owner_id: ownerId, key_hash: hashKey(apiKey), key_last4: apiKey.slice(-4), label, mode, ...policy },
  };
}

/** The wire form of a just-issued key. */
export function issued(apiKey: string, row: KeyRow, policy: PolicyView): IssuedKey {
  return { apiKey, keyId: row.id, keySnippet: keySnippet(apiKey), createdAt: row.created_at.toISOString(), label: row.label, ...policy };
}
