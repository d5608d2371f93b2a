import { AppError, type IssuedKey, type PolicyInput } from "@riskinmind/contracts";
import { recordChange } from "../audit/record";
import { setFields } from "../audit/changes";
import { issued, mintKey, ownerActor, type KeyVerbDeps, type OwnerInput } from "./issue";
import { applyPolicy, NO_RESTRICTIONS, policyView, quotaOf } from "./policy";
import { insertKey, isActiveKeyConflict, lockOwner, revokeExpired, type KeyRow, type RevokedRow, withDb } from "./repo";

export const ACTIVE_KEY_EXISTS_MESSAGE = "An active API key already exists. Use POST /api/v1/keys/regenerate to replace it, or POST /api/v1/keys/revoke first.";

export interface GenerateInput extends OwnerInput {
  label: string | null;
  policy: PolicyInput;
}

/**
 * Issues the slot's first active key (an expired one is replaced). The
 * one-active-key policy is the partial unique index's to enforce: a
 * check-then-insert here would let two concurrent requests both pass the check.
 */
export async function generateKey(deps: KeyVerbDeps, input: GenerateInput): Promise<IssuedKey> {
  const now = Date.now();
  const { apiKey, row } = mintKey(input, input.label, applyPolicy(input.policy, NO_RESTRICTIONS, now));
  let stored: KeyRow;
  let expired: RevokedRow | undefined;
  try {
    [expired, stored] = await withDb(() =>
      deps.sql.begin(async (tx): Promise<[RevokedRow | undefined, KeyRow]> => {
        await lockOwner(tx, input.ownerId);
        const old = await revokeExpired(tx, input);
        const stored = await insertKey(tx, row);
        // An expired key replaced here is named in this entry, not given one of its own: its expiry is the expiry sweep's to record.
        const changes: Record<string, unknown> = setFields(stored.label, stored);
        if (old) changes.replacedExpiredKeyId = old.id;
        await recordChange(tx, { ownerId: input.ownerId, keyId: stored.id, mode: input.mode, action: "key.generated", actor: ownerActor(input.ownerId), request: input.request, changes });
        return [old, stored];
      }),
    );
  } catch (err) {
    if (isActiveKeyConflict(err)) throw new AppError("ACTIVE_KEY_EXISTS", ACTIVE_KEY_EXISTS_MESSAGE);
    throw err;
  }
  deps.outbox.nudge();
  // A cached "no active key" must not outlive the answer.
  await deps.events.changed(input.ownerId, expired ? [expired] : []);
  return issued(apiKey, stored, policyView(stored, undefined, await quotaOf(deps.quota, stored, now)));
}
