import { Elysia } from "elysia";
import { AUDIT_LIMIT, AuditQuery, AuditResponse } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import { BEARER, errorResponses, inline } from "../docs";
import { withDb } from "../keys/repo";
import type { RateLimiter } from "../ratelimit";
import { auditPage, decodeCursor } from "./repo";

export interface AuditRouteDeps {
  sql: Sql;
  auth: Authenticator;
  /** Reads per owner (READ_RATE_LIMIT_PER_MINUTE), shared with GET / and /logs. */
  readLimiter: RateLimiter;
}

/** GET /api/v1/keys/audit: the JWT owner's audit entries (both modes, or `?mode=`), newest first. */
export function auditRoute(deps: AuditRouteDeps) {
  return new Elysia({ prefix: "/api/v1/keys" }).use(jwtAuth(deps.auth)).get(
    "/audit",
    async ({ ownerId, query }) => {
      const limit = query.limit === undefined ? AUDIT_LIMIT.default : Number(query.limit);
      // Checked before the limiter: a malformed request spends nothing.
      const below = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      deps.readLimiter.take(ownerId);
      const page = await withDb(() => auditPage(deps.sql, { ownerId, mode: query.mode, limit, below }));
      return { success: true as const, data: page.entries, meta: { limit, nextCursor: page.nextCursor } };
    },
    {
      query: inline(AuditQuery),
      response: { 200: inline(AuditResponse), ...errorResponses(400, 401, 429, 503) },
      detail: { summary: "The owner's audit log: every change of its keys, newest first (append-only, hash-chained)", tags: ["keys"], security: BEARER },
    },
  );
}
