import { AppError, type CurrentKey, type PatchBody } from "@riskinmind/contracts";
import { viewOf } from "./current";
import { auditedFields, diffFields } from "../audit/changes";
import { recordChange } from "../audit/record";
import { ownerActor, type KeyVerbDeps, type OwnerInput } from "./issue";
import { applyPolicy, policyOf } from "./policy";
import { findActive, lockOwner, updatePolicy, withDb } from "./repo";

export interface PatchInput extends OwnerInput {
  body: PatchBody;
}

/**
 * Changes the policy (and label) of the slot's active key: what the body
 * names, `null` clearing it. Every cache holding the key's verdict drops it
 * (keys.cache.changed) before the answer returns, so guards enforce the new
 * policy from their next call on. Answers like GET.
 */
export async function patchKey(deps: KeyVerbDeps, input: PatchInput): Promise<CurrentKey> {
  const now = Date.now();
  let recorded = false;
  const updated = await withDb(() =>
    deps.sql.begin(async (tx) => {
      await lockOwner(tx, input.ownerId);
      const row = await findActive(tx, input);
      if (!row) return undefined;
      const policy = applyPolicy(input.body, policyOf(row), now);
      const label = input.body.label === undefined ? row.label : input.body.label;
      const after = await updatePolicy(tx, input, label, policy);
      if (!after) return undefined;
      const changes = diffFields(auditedFields(row.label, row), auditedFields(after.label, after));
      // A PATCH that changes nothing leaves no entry and sends no event.
      if (Object.keys(changes).length > 0) {
        await recordChange(tx, { ownerId: input.ownerId, keyId: after.id, mode: input.mode, action: "key.updated", actor: ownerActor(input.ownerId), request: input.request, changes });
        recorded = true;
      }
      return after;
    }),
  );
  if (recorded) deps.outbox.nudge();
  if (!updated) throw new AppError("KEY_NOT_FOUND", "No active API key. Create one with POST /api/v1/keys/generate.");
  await deps.events.policyChanged(updated);
  return withDb(() => viewOf(deps, updated, now));
}
