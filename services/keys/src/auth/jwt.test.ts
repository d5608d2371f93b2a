/**
 * Who the caller is: `Authorization: Bearer <JWT>` checked without a server
 * (HS256 with the secret, EdDSA/ES256/RS256 with an in-memory JWKS). Every
 * refusal is the same 401, whatever check failed. The HTTP side of the same
 * rules: test/security/jwt-hygiene.test.ts.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { AppError } from "@riskinmind/contracts";
import { type AuthConfig, createAuthenticator } from "./jwt";
import { TokenCache } from "./token-cache";

const SECRET = "unit-test-secret-that-is-long-enough-for-hs256";
const TTL = 3_600;
const CONFIG: AuthConfig = { JWT_SECRET: SECRET, JWT_JWKS_FILE: undefined, JWT_JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined, JWT_MAX_TTL_SECONDS: TTL };
const secretKey = new TextEncoder().encode(SECRET);
const nowS = () => Math.floor(Date.now() / 1000);

/** An HS256 token with `claims` (exp defaults to 10 minutes ahead; pass exp: undefined to leave it out). */
const hs256 = (claims: JWTPayload, key: Uint8Array = secretKey) => new SignJWT({ exp: nowS() + 600, ...claims }).setProtectedHeader({ alg: "HS256" }).sign(key);
const req = (authorization?: string) => new Request("http://keys.test/api/v1/keys/", { headers: authorization === undefined ? {} : { authorization } });

/** The owner, or the refusal's code. */
async function ownerOr401(auth: ReturnType<typeof createAuthenticator>, authorization?: string): Promise<string> {
  try {
    return await auth.ownerOf(req(authorization));
  } catch (e) {
    if (e instanceof AppError) return `${e.status} ${e.code}`;
    throw e;
  }
}

describe("HS256 tokens", () => {
  const auth = createAuthenticator(CONFIG);

  test("a signed token with exp gives its sub; the scheme's case and extra spaces do not matter", async () => {
    const t = await hs256({ sub: "owner-1" });
    expect(await ownerOr401(auth, `Bearer ${t}`)).toBe("owner-1");
    expect(await ownerOr401(auth, `bearer  ${t}`)).toBe("owner-1");
  });

  test("every refusal is one 401 UNAUTHORIZED with a Bearer challenge and the same message", async () => {
    const reasons = [undefined, "Basic dXNlcjpwYXNz", `Bearer ${await hs256({ sub: "o" }, new TextEncoder().encode("another-secret-another-secret-xx"))}`];
    const errors: AppError[] = [];
    for (const authorization of reasons) errors.push((await auth.ownerOf(req(authorization)).catch((e: unknown) => e)) as AppError);
    for (const e of errors) {
      expect(e).toBeInstanceOf(AppError);
      expect(e.code).toBe("UNAUTHORIZED");
      expect(e.headers).toEqual({ "www-authenticate": 'Bearer realm="riskinmind"' });
    }
    expect(new Set(errors.map((e) => e.message)).size).toBe(1);
  });

  test("the header must be exactly 'Bearer <three base64url parts>'", async () => {
    const t = await hs256({ sub: "o" });
    for (const authorization of ["", "Bearer", `Bearer${t}`, `Token ${t}`, `Bearer ${t} extra`, `Bearer ${t.split(".").slice(0, 2).join(".")}`, `Bearer ${t}=`]) {
      expect({ authorization, r: await ownerOr401(auth, authorization) }).toEqual({ authorization, r: "401 UNAUTHORIZED" });
    }
  });

  test("an Authorization header over 4096 characters is refused even when its token is good", async () => {
    const big = await hs256({ sub: "o", pad: "x".repeat(4_000) });
    const fits = await hs256({ sub: "o", pad: "x".repeat(2_000) });
    expect(`Bearer ${big}`.length).toBeGreaterThan(4_096);
    expect(await ownerOr401(auth, `Bearer ${big}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${fits}`)).toBe("o");
  });

  test("alg none, a wrong secret, a missing or past exp are refused", async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ sub: "o", exp: nowS() + 600 })).toString("base64url")}.`;
    expect(await ownerOr401(auth, `Bearer ${unsigned}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o" }, new TextEncoder().encode("x".repeat(48)))}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", exp: undefined })}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", exp: nowS() - 5 })}`)).toBe("401 UNAUTHORIZED");
  });
});

describe("token lifetime (JWT_MAX_TTL_SECONDS)", () => {
  const auth = createAuthenticator(CONFIG);

  test("exp − iat up to the cap is accepted, one second more is refused", async () => {
    const iat = nowS();
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", iat, exp: iat + TTL })}`)).toBe("o");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", iat, exp: iat + TTL + 1 })}`)).toBe("401 UNAUTHORIZED");
  });

  test("without iat the lifetime is counted from now", async () => {
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", exp: nowS() + TTL - 5 })}`)).toBe("o");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", exp: nowS() + TTL + 5 })}`)).toBe("401 UNAUTHORIZED");
  });

  test("an iat in the future counts as now, so it cannot stretch a token past the cap", async () => {
    const now = nowS();
    // Claims a 700 s life, but is good for 3,700 s from now.
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", iat: now + 3_000, exp: now + 3_700 })}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", iat: now + 3_000, exp: now + 3_500 })}`)).toBe("o");
  });
});

describe("the owner (sub)", () => {
  const auth = createAuthenticator(CONFIG);

  test("1..255 characters of storable text without control characters", async () => {
    for (const sub of ["o", "x".repeat(255), "Zoë 東京 😀"]) expect(await ownerOr401(auth, `Bearer ${await hs256({ sub })}`)).toBe(sub);
  });

  test("missing, empty, too long, control characters, a lone surrogate or not a string: refused", async () => {
    const bad: unknown[] = [undefined, "", "x".repeat(256), "a\u0001b", "a\u007fb", "a\nb", "victim\ud800", 42];
    for (const sub of bad) {
      const t = await hs256(sub === undefined ? {} : ({ sub } as JWTPayload));
      expect({ sub, r: await ownerOr401(auth, `Bearer ${t}`) }).toEqual({ sub, r: "401 UNAUTHORIZED" });
    }
  });
});

describe("issuer and audience", () => {
  const auth = createAuthenticator({ ...CONFIG, JWT_ISSUER: "https://idp.example.com", JWT_AUDIENCE: "riskinmind-keys" });

  test("when configured, iss must equal and aud must include them", async () => {
    const ok = { sub: "o", iss: "https://idp.example.com", aud: ["other", "riskinmind-keys"] };
    expect(await ownerOr401(auth, `Bearer ${await hs256(ok)}`)).toBe("o");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ ...ok, iss: "https://evil.example.com" })}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ ...ok, aud: "other" })}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await hs256({ sub: "o", aud: "riskinmind-keys" })}`)).toBe("401 UNAUTHORIZED");
  });
});

describe("asymmetric tokens against a JWKS", () => {
  let idp: CryptoKeyPair;
  let stranger: CryptoKeyPair;
  let config: AuthConfig;
  beforeAll(async () => {
    idp = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    stranger = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: "idp-1", alg: "EdDSA" };
    config = { ...CONFIG, JWT_SECRET: undefined, JWT_JWKS_FILE: { path: "in-memory", jwks: { keys: [jwk] } } };
  });
  const ed = (key: CryptoKey, claims: JWTPayload = {}) => new SignJWT({ sub: "ed-owner", exp: nowS() + 600, ...claims }).setProtectedHeader({ alg: "EdDSA", kid: "idp-1" }).sign(key);

  test("a token signed by the identity provider's key is accepted; another key's is not", async () => {
    const auth = createAuthenticator(config);
    expect(await ownerOr401(auth, `Bearer ${await ed(idp.privateKey)}`)).toBe("ed-owner");
    expect(await ownerOr401(auth, `Bearer ${await ed(stranger.privateKey)}`)).toBe("401 UNAUTHORIZED");
  });

  test("an algorithm we hold no key for is refused: HS256 without a secret, EdDSA without a JWKS", async () => {
    expect(await ownerOr401(createAuthenticator(config), `Bearer ${await hs256({ sub: "o" })}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(createAuthenticator(CONFIG), `Bearer ${await ed(idp.privateKey)}`)).toBe("401 UNAUTHORIZED");
  });

  test("the lifetime cap and the sub rules apply to JWKS tokens too", async () => {
    const auth = createAuthenticator(config);
    expect(await ownerOr401(auth, `Bearer ${await ed(idp.privateKey, { exp: nowS() + TTL + 5 })}`)).toBe("401 UNAUTHORIZED");
    expect(await ownerOr401(auth, `Bearer ${await ed(idp.privateKey, { sub: "a\u0000b" })}`)).toBe("401 UNAUTHORIZED");
  });
});

describe("verdict reuse", () => {
  test("one request is verified once; another request with the same token is a token-cache hit", async () => {
    const tokens = new TokenCache();
    const auth = createAuthenticator(CONFIG, tokens);
    const t = await hs256({ sub: "cached-owner" });
    const r = req(`Bearer ${t}`);
    expect(await auth.ownerOf(r)).toBe("cached-owner");
    expect(await auth.ownerOf(r)).toBe("cached-owner");
    expect({ hits: tokens.hits, misses: tokens.misses }).toEqual({ hits: 0, misses: 1 });
    expect(await auth.ownerOf(req(`Bearer ${t}`))).toBe("cached-owner");
    expect({ hits: tokens.hits, misses: tokens.misses }).toEqual({ hits: 1, misses: 1 });
  });

  test("a refused token is never cached", async () => {
    const tokens = new TokenCache();
    const auth = createAuthenticator(CONFIG, tokens);
    await ownerOr401(auth, `Bearer ${await hs256({ sub: "" })}`);
    expect(tokens.size).toBe(0);
  });
});
