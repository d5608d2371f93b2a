import type { IssuedKey, PolicyInput } from "@riskinmind/contracts";
import { auditedFields, diffFields, setFields } from "../audit/changes";
import { recordChange } from "../audit/record";
import { issued, mintKey, ownerActor, type KeyVerbDeps, type OwnerInput } from "./issue";
import { applyPolicy, carriedOver, graceEnd, policyView, quotaOf, type PreviousKeyRow } from "./policy";
import { recordGraceEnded } from "./revoke";
import { endGrace, findActive, findInGrace, insertKey, isActiveKeyConflict, lockOwner, revokeActive, withDb, type KeyRow, type RevokedRow } from "./repo";

const ATTEMPTS = 5;

export interface RegenerateInput extends OwnerInput {
  label: string | null;
  policy: PolicyInput;
  /** How long the replaced key keeps working (0: revoked at once). */
  graceS: number;
}

/**
 * Replaces the slot's active key (if any) with a new one in one transaction.
 * The new key carries the old one's policies over, but for what the body
 * names. With a grace period the old key keeps working until it ends and
 * shows as previousKey; a key still in an earlier grace period is revoked at
 * once (at most one previous key). An advisory lock on the owner makes
 * concurrent regenerates take turns, so each one replaces exactly the key the
 * previous one issued; a concurrent generate (which can slip in between two
 * statements) can still win the index, hence the retry.
 */
export async function regenerateKey(deps: KeyVerbDeps, input: RegenerateInput): Promise<IssuedKey> {
  for (let attempt = 1; ; attempt++) {
    const now = Date.now();
    try {
      const { apiKey, stored, ended, previous } = await withDb(() =>
        deps.sql.begin(async (tx) => {
          await lockOwner(tx, input.ownerId);
          const old = await findActive(tx, input);
          // Validated inside the transaction: a 400 rolls back, nothing changed.
          const { apiKey, row } = mintKey(input, input.label, applyPolicy(input.policy, carriedOver(old, now), now));
          const ended: RevokedRow[] = await endGrace(tx, input);
          await recordGraceEnded(tx, input, ended, "key.regenerated");
          const revoked = await revokeActive(tx, input, input.graceS);
          if (revoked) ended.push(revoked);
          const stored: KeyRow = await insertKey(tx, row);
          const previous: PreviousKeyRow | undefined = input.graceS > 0 && revoked ? await findInGrace(tx, input) : undefined;
          const until = previous ? graceEnd(previous) : null;
          const policy = old ? diffFields(auditedFields(old.label, old), auditedFields(stored.label, stored)) : setFields(stored.label, stored);
          await recordChange(tx, {
            ownerId: input.ownerId,
            keyId: stored.id,
            mode: input.mode,
            action: "key.regenerated",
            actor: ownerActor(input.ownerId),
            request: input.request,
            changes: { previousKeyId: revoked?.id ?? null, graceUntil: until ? until.toISOString() : null, ...policy },
          });
          return { apiKey, stored, ended, previous };
        }),
      );
      deps.outbox.nudge();
      // The old key must be refused (or re-verified with its grace end) before the caller learns about the new one.
      await deps.events.changed(input.ownerId, ended);
      return issued(apiKey, stored, policyView(stored, previous, await quotaOf(deps.quota, stored, now)));
    } catch (err) {
      if (!isActiveKeyConflict(err) || attempt >= ATTEMPTS) throw err;
    }
  }
}
