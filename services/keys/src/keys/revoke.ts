import { AppError } from "@riskinmind/contracts";
import type { KeyVerbDeps, OwnerInput } from "./issue";
import { endGrace, lockOwner, revokeActive, withDb } from "./repo";

/** Revokes the slot's active key, and ends a rotated-out key's grace at once; both are refused everywhere once this returns. */
export async function revokeKey(deps: KeyVerbDeps, input: OwnerInput): Promise<void> {
  const { revoked, ended } = await withDb(() =>
    deps.sql.begin(async (tx) => {
      await lockOwner(tx, input.ownerId);
      return { revoked: await revokeActive(tx, input), ended: await endGrace(tx, input) };
    }),
  );
  if (!revoked) throw new AppError("KEY_NOT_FOUND", "No active API key to revoke.");
  await deps.events.changed(input.ownerId, [revoked, ...ended]);
}
