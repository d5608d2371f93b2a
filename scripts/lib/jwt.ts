/** Signing of development and operator tokens (HS256, as the keys service verifies them). */
import { SignJWT } from "jose";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in a TTL like `30s`, `15m`, `1h`, `7d`; undefined when malformed. */
export function parseTtl(ttl: string): number | undefined {
  const m = /^([1-9][0-9]{0,6})([smhd])$/.exec(ttl.trim());
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** An HS256 JWT with `sub`, `iat` and `exp = now + ttlSeconds`. */
export function signToken(secret: string, sub: string, ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
