import type { IssuedKey } from "@riskinmind/contracts";
import { issued, mintKey, type IssueInput, type KeyVerbDeps } from "./issue";
import { insertKey, isActiveKeyConflict, lockOwner, revokeActive, withDb, type KeyRow, type RevokedRow } from "./repo";

const ATTEMPTS = 5;

/**
 * Revokes the active key (if any) and issues a new one in one transaction.
 * An advisory lock on the owner makes concurrent regenerates take turns, so
 * each one revokes exactly the key the previous one issued; a concurrent
 * generate (which takes no lock) can still win the index, hence the retry.
 */
export async function regenerateKey(deps: KeyVerbDeps, { ownerId, label }: IssueInput): Promise<IssuedKey> {
  for (let attempt = 1; ; attempt++) {
    const { apiKey, row } = mintKey(ownerId, label);
    try {
      const [revoked, stored] = await withDb(() =>
        deps.sql.begin(async (tx): Promise<[RevokedRow | undefined, KeyRow]> => {
          await lockOwner(tx, ownerId);
          const old = await revokeActive(tx, ownerId);
          return [old, await insertKey(tx, row)];
        }),
      );
      // The old key must be refused before the caller learns about the new one.
      await deps.events.changed(ownerId, revoked);
      return issued(apiKey, stored);
    } catch (err) {
      if (!isActiveKeyConflict(err) || attempt >= ATTEMPTS) throw err;
    }
  }
}
