import { AppError } from "@riskinmind/contracts";
import { recordChange } from "../audit/record";
import { ownerActor, type KeyVerbDeps, type OwnerInput } from "./issue";
import { endGrace, lockOwner, revokeActive, withDb, type Db, type RevokedRow } from "./repo";

/** Audit entries (and key events) of rotated-out keys whose grace an owner's revoke or regenerate ended early. */
export async function recordGraceEnded(tx: Db, input: OwnerInput, ended: RevokedRow[], by: "key.revoked" | "key.regenerated"): Promise<void> {
  for (const r of ended) {
    await recordChange(tx, { ownerId: input.ownerId, keyId: r.id, mode: input.mode, action: "key.grace_ended", actor: ownerActor(input.ownerId), request: input.request, changes: { endedBy: by } });
  }
}

/** Revokes the slot's active key, and ends a rotated-out key's grace at once; both are refused everywhere once this returns. */
export async function revokeKey(deps: KeyVerbDeps, input: OwnerInput): Promise<void> {
  const { revoked, ended } = await withDb(() =>
    deps.sql.begin(async (tx) => {
      await lockOwner(tx, input.ownerId);
      const revoked = await revokeActive(tx, input);
      const ended = await endGrace(tx, input);
      if (revoked) {
        await recordChange(tx, { ownerId: input.ownerId, keyId: revoked.id, mode: input.mode, action: "key.revoked", actor: ownerActor(input.ownerId), request: input.request, changes: {} });
      }
      // A revoke with no active key still ends a grace period (and answers 404): that change is recorded too.
      await recordGraceEnded(tx, input, ended, "key.revoked");
      return { revoked, ended };
    }),
  );
  if (revoked || ended.length > 0) deps.outbox.nudge();
  if (!revoked) {
    // The grace end committed: guards must refuse that key, whatever the answer.
    if (ended.length > 0) await deps.events.changed(input.ownerId, ended);
    throw new AppError("KEY_NOT_FOUND", "No active API key to revoke.");
  }
  await deps.events.changed(input.ownerId, [revoked, ...ended]);
}
