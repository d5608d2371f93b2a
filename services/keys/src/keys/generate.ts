import { AppError, type IssuedKey } from "@riskinmind/contracts";
import { issued, mintKey, type IssueInput, type KeyVerbDeps } from "./issue";
import { insertKey, isActiveKeyConflict, type KeyRow, withDb } from "./repo";

export const ACTIVE_KEY_EXISTS_MESSAGE = "An active API key already exists. Use POST /api/v1/keys/regenerate to replace it, or POST /api/v1/keys/revoke first.";

/**
 * Issues the owner's first active key. The one-active-key policy is the
 * partial unique index's to enforce: a check-then-insert here would let two
 * concurrent requests both pass the check.
 */
export async function generateKey(deps: KeyVerbDeps, { ownerId, label }: IssueInput): Promise<IssuedKey> {
  const { apiKey, row } = mintKey(ownerId, label);
  let stored: KeyRow;
  try {
    stored = await withDb(() => insertKey(deps.sql, row));
  } catch (err) {
    if (isActiveKeyConflict(err)) throw new AppError("ACTIVE_KEY_EXISTS", ACTIVE_KEY_EXISTS_MESSAGE);
    throw err;
  }
  // A cached "no active key" must not outlive the answer.
  await deps.events.changed(ownerId, undefined);
  return issued(apiKey, stored);
}
