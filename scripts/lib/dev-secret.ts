/**
 * The development JWT secret, in one place for `bun run dev` and
 * `bun run token`. It is public (it is in the repository), so it is refused
 * when NODE_ENV=production: a token signed with it proves nothing.
 */
import { DEV_JWT_SECRET } from "@riskinmind/runtime";

export { DEV_JWT_SECRET };

export type SecretChoice = { ok: true; secret: string; isDev: boolean } | { ok: false; message: string };

/** JWT_SECRET when set; the development secret otherwise, except in production. */
export function chooseJwtSecret(env: Record<string, string | undefined>): SecretChoice {
  const set = env.JWT_SECRET;
  if (set !== undefined && set !== "") return { ok: true, secret: set, isDev: false };
  if (env.NODE_ENV === "production") {
    return { ok: false, message: "JWT_SECRET is required when NODE_ENV=production (the development secret is public); nothing was started" };
  }
  return { ok: true, secret: DEV_JWT_SECRET, isDev: true };
}

export const DEV_SECRET_WARNING = "warning: JWT_SECRET is not set; using the public development secret (never do this in production)";
