/**
 * The development JWT secret of `bun run dev` and `bun run token`. It is
 * public (it is in the repository), so a token signed with it proves nothing:
 * the keys service refuses to start with it when NODE_ENV=production.
 */
export const DEV_JWT_SECRET = "riskinmind-dev-only-secret-do-not-use-in-production";
