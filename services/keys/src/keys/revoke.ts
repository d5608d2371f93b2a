import { AppError } from "@riskinmind/contracts";
import type { KeyVerbDeps, OwnerInput } from "./issue";
import { lockOwner, revokeActive, withDb } from "./repo";

/** Revokes the owner's active key; it is refused everywhere once this returns. */
export async function revokeKey(deps: KeyVerbDeps, { ownerId }: OwnerInput): Promise<void> {
  const revoked = await withDb(() =>
    deps.sql.begin(async (tx) => {
      await lockOwner(tx, ownerId);
      return revokeActive(tx, ownerId);
    }),
  );
  if (!revoked) throw new AppError("KEY_NOT_FOUND", "No active API key to revoke.");
  await deps.events.changed(ownerId, revoked);
}
