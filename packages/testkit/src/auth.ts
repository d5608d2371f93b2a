/** JWTs for the keys edge: the test secret, signed and forged tokens, and fresh owners. */
import { SignJWT } from "jose";

export const JWT_SECRET = "test-secret-that-is-long-enough-0123456789";

/** A signed HS256 token; pass claims to override or `alg` to forge. */
export async function token(sub: string | undefined, opts: { secret?: string; expSeconds?: number; nbfSeconds?: number; alg?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {};
  if (sub !== undefined) claims.sub = sub;
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT" }).setIssuedAt(now);
  jwt = jwt.setExpirationTime(now + (opts.expSeconds ?? 3600));
  if (opts.nbfSeconds !== undefined) jwt = jwt.setNotBefore(now + opts.nbfSeconds);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

/** An unsigned `alg: none` token with the given claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

export function authHeader(jwt: string): Record<string, string> {
  return { authorization: `Bearer ${jwt}` };
}

export interface Owner {
  sub: string;
  jwt: string;
  /** `Authorization: Bearer <jwt>`. */
  headers: Record<string, string>;
}

/** A fresh owner id (`<prefix>_<random>`), its JWT and Authorization header. */
export async function newOwner(prefix = "owner"): Promise<Owner> {
  const sub = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const jwt = await token(sub);
  return { sub, jwt, headers: authHeader(jwt) };
}
