import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { AppError, isStorableText } from "@riskinmind/contracts";
import type { KeysConfig } from "../env";
import { TokenCache } from "./token-cache";

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;
const MAX_TOKEN = 4096;
// An owner id becomes a database value and a log field: printable, bounded.
const OWNER = /^[^\x00-\x1f\x7f]{1,255}$/;
/** The asymmetric algorithms we accept, checked against the JWKS. */
const ASYMMETRIC = ["EdDSA", "ES256", "RS256"];

const unauthorized = () => new AppError("UNAUTHORIZED", "A valid Bearer token is required.", { "www-authenticate": 'Bearer realm="riskinmind"' });

export type AuthConfig = Pick<KeysConfig, "JWT_SECRET" | "JWT_JWKS_FILE" | "JWT_JWKS_URL" | "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_MAX_TTL_SECONDS">;

/**
 * Finds the owner (`sub`) of a request from `Authorization: Bearer <JWT>` only
 * (never a cookie, query or x-api-key). HS256 tokens are checked with
 * JWT_SECRET (through @elysiajs/jwt), EdDSA/ES256/RS256 ones with the JWKS
 * (file or URL, through jose, which @elysiajs/jwt itself builds on), so the
 * identity provider need not share a secret with us; any other algorithm, or
 * one we hold no key for, is refused by jose itself. `exp` is required and the
 * lifetime capped (a stolen token without `exp` would be valid forever);
 * `iss`/`aud` are checked when configured. A `sub` that is not storable text
 * (a lone surrogate becomes U+FFFD in Postgres and would merge two owners) is
 * refused. One verdict per request object (the parse phase authenticates
 * before the body is read, the route reads the same answer), one per token
 * string in `tokens` (see token-cache.ts: every rule above is fixed for a
 * token, so a cached verdict stays true until its exp).
 */
export function createAuthenticator(config: AuthConfig, tokens: TokenCache = new TokenCache()) {
  // The plugin's verifier, taken off a bare app: it checks with the secret and the options we pass.
  const hs = config.JWT_SECRET === undefined ? undefined : new Elysia().use(jwt({ name: "jwt", secret: config.JWT_SECRET, alg: "HS256" })).decorator.jwt;
  const jwks: JWTVerifyGetKey | undefined = config.JWT_JWKS_FILE ? createLocalJWKSet(config.JWT_JWKS_FILE.jwks) : config.JWT_JWKS_URL ? createRemoteJWKSet(new URL(config.JWT_JWKS_URL)) : undefined;
  const options = {
    requiredClaims: ["exp"],
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };
  const known = new WeakMap<Request, string>();

  const verify = async (token: string): Promise<string> => {
    const cached = tokens.get(token);
    if (cached !== undefined) return cached;
    // Which check failed stays with us: the caller learns only "not valid".
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized();
    }
    let payload: JWTPayload;
    if (alg === "HS256" && hs) {
      // Each verifier is pinned to its algorithms, so a token cannot pick its key's kind (no HS/RS confusion).
      const verified = await hs.verify(token, { ...options, algorithms: ["HS256"] });
      if (verified === false) throw unauthorized();
      payload = verified;
    } else if (jwks && ASYMMETRIC.includes(alg ?? "")) {
      try {
        ({ payload } = await jwtVerify(token, jwks, { ...options, algorithms: ASYMMETRIC }));
      } catch {
        throw unauthorized();
      }
    } else {
      throw unauthorized();
    }
    // Lifetime = exp − iat, or exp − now without iat; an iat in the future counts as now, so it cannot stretch a token.
    const exp = payload.exp!;
    const now = Date.now() / 1000;
    const from = typeof payload.iat === "number" ? Math.min(payload.iat, now) : now;
    if (exp - from > config.JWT_MAX_TTL_SECONDS) throw unauthorized();
    const sub: unknown = payload.sub;
    if (typeof sub !== "string" || !OWNER.test(sub) || !isStorableText(sub)) throw unauthorized();
    tokens.set(token, sub, exp);
    return sub;
  };

  return {
    /** The owner of the request, or throws 401 UNAUTHORIZED; repeated calls for one request are free. */
    async ownerOf(request: Request): Promise<string> {
      const seen = known.get(request);
      if (seen !== undefined) return seen;
      const header = request.headers.get("authorization");
      if (header === null || header.length > MAX_TOKEN) throw unauthorized();
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) throw unauthorized();
      const owner = await verify(token);
      known.set(request, owner);
      return owner;
    },
  };
}
export type Authenticator = ReturnType<typeof createAuthenticator>;

/** The request's owner as `ownerId` on every route after it (transform phase). */
export function jwtAuth(auth: Authenticator) {
  return new Elysia().derive({ as: "scoped" }, async ({ request }) => ({ ownerId: await auth.ownerOf(request) }));
}
