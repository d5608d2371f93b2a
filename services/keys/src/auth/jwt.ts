import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { AppError } from "@riskinmind/contracts";
import { TokenCache } from "./token-cache";

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;
const MAX_TOKEN = 4096;
// An owner id becomes a database value and a log field: printable, bounded, no NUL.
const OWNER = /^[^\x00-\x1f\x7f]{1,255}$/;

const unauthorized = () => new AppError("UNAUTHORIZED", "A valid Bearer token is required.", { "www-authenticate": 'Bearer realm="riskinmind"' });

/**
 * The owner of the request, from `Authorization: Bearer <JWT>` only (never a
 * cookie, query or x-api-key). HS256 only: `alg: none` and every other
 * algorithm are refused by the verifier itself, not by a check of ours.
 * Runs as a derive (transform phase) so an anonymous caller learns nothing
 * from body validation. A token verified before is answered from `tokens`
 * (see token-cache.ts for why that is safe) without the HMAC.
 */
export function jwtAuth(secret: string, tokens: TokenCache = new TokenCache()) {
  return new Elysia()
    .use(jwt({ name: "jwt", secret, alg: "HS256" }))
    .derive({ as: "scoped" }, async ({ jwt, request }) => {
      const header = request.headers.get("authorization");
      if (header === null || header.length > MAX_TOKEN) throw unauthorized();
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) throw unauthorized();
      const cached = tokens.get(token);
      if (cached !== undefined) return { ownerId: cached };
      // jose checks exp and nbf when present.
      const payload = await jwt.verify(token, { algorithms: ["HS256"] });
      if (payload === false) throw unauthorized();
      const sub: unknown = payload.sub;
      if (typeof sub !== "string" || !OWNER.test(sub)) throw unauthorized();
      tokens.set(token, sub, payload.exp);
      return { ownerId: sub };
    });
}
