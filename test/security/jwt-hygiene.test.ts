/**
 * JWT hygiene at the keys edge: `exp` required and the lifetime capped,
 * `iss`/`aud` checked when configured, asymmetric tokens (EdDSA, ES256,
 * RS256) verified against a JWKS from a file or a URL, the algorithm held to
 * the keys we have, and the public development secret refused in production.
 * Real keys made by jose here; the JWKS URL is a Bun.serve on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { DEV_JWT_SECRET } from "@riskinmind/runtime";
import { keysEnv } from "../../services/keys/src/env";
import { authHeader, JWT_SECRET, type KeysInstance, type KeysStack, keysStack, serviceEnv, spawnChild, testTopology } from "@riskinmind/testkit";

type Alg = "EdDSA" | "ES256" | "RS256";
const ALGS: Alg[] = ["EdDSA", "ES256", "RS256"];
interface Signer {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

let env: KeysStack;
let dir: string;
let jwksServer: ReturnType<typeof Bun.serve>;
const signers = {} as Record<Alg, Signer>;
/** Same kids and algorithms, other keys: what an attacker without the provider's keys can sign. */
const impostors = {} as Record<Alg, Signer>;
let jwksFile: string;
let withFile: KeysInstance;
let withUrl: KeysInstance;
let checked: KeysInstance;
let noJwks: KeysInstance;
let noSecret: KeysInstance;

async function signer(alg: Alg, kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

const now = () => Math.floor(Date.now() / 1000);
interface Claims {
  sub?: string;
  iat?: number | null;
  exp?: number | null;
  iss?: string;
  aud?: string;
}
/** A token with `claims` (iat = now, exp = now + 600 unless given; null leaves it out). */
function sign(key: Uint8Array | Signer, c: Claims = {}): Promise<string> {
  const payload: Record<string, unknown> = { sub: c.sub ?? "jwt-owner" };
  if (c.iat !== null) payload.iat = c.iat ?? now();
  if (c.exp !== null) payload.exp = c.exp ?? now() + 600;
  if (c.iss) payload.iss = c.iss;
  if (c.aud) payload.aud = c.aud;
  const jwt = new SignJWT(payload);
  if (key instanceof Uint8Array) return jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
  return jwt.setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" }).sign(key.privateKey);
}
const secret = new TextEncoder().encode(JWT_SECRET);
const get = (i: KeysInstance, jwt: string) => i.call("GET", "/api/v1/keys/", { headers: authHeader(jwt) });
/** 404 KEY_NOT_FOUND means the token was accepted (the owner simply has no key). */
const accepted = async (i: KeysInstance, jwt: string) => (await get(i, jwt)).status === 404;
const refused = async (i: KeysInstance, jwt: string) => {
  const r = await get(i, jwt);
  return r.status === 401 && r.body.error.code === "UNAUTHORIZED";
};

beforeAll(async () => {
  env = await keysStack();
  for (const alg of ALGS) {
    signers[alg] = await signer(alg, `kid-${alg}`);
    impostors[alg] = await signer(alg, `kid-${alg}`);
  }
  dir = mkdtempSync(join(tmpdir(), "rim-jwks-"));
  jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: ALGS.map((a) => signers[a].jwk) }));
  jwksServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ keys: ALGS.map((a) => signers[a].jwk) }) });
  withFile = await env.start({ JWT_JWKS_FILE: jwksFile });
  withUrl = await env.start({ JWT_JWKS_URL: `http://127.0.0.1:${jwksServer.port}/.well-known/jwks.json` });
  checked = await env.start({ JWT_ISSUER: "https://id.riskinmind.test", JWT_AUDIENCE: "keys-api", JWT_MAX_TTL_SECONDS: "3600" });
  noJwks = await env.start();
  noSecret = await env.start({ JWT_SECRET: "", JWT_JWKS_FILE: jwksFile });
});
afterAll(async () => {
  await env?.close();
  jwksServer?.stop(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("exp and lifetime", () => {
  test("a token without exp is refused (it would be valid forever)", async () => {
    expect(await refused(noJwks, await sign(secret, { exp: null }))).toBe(true);
    expect(await accepted(noJwks, await sign(secret))).toBe(true);
  });

  test("lifetime above JWT_MAX_TTL_SECONDS (default 86400) is refused: exp − iat, or exp − now without iat", async () => {
    expect(await accepted(noJwks, await sign(secret, { exp: now() + 86_000 }))).toBe(true);
    expect(await refused(noJwks, await sign(secret, { exp: now() + 86_400 + 120 }))).toBe(true);
    // An old iat with a near exp is still a long-lived token.
    expect(await refused(noJwks, await sign(secret, { iat: now() - 2 * 86_400, exp: now() + 60 }))).toBe(true);
    expect(await refused(noJwks, await sign(secret, { iat: null, exp: now() + 90_000 }))).toBe(true);
    expect(await accepted(noJwks, await sign(secret, { iat: null, exp: now() + 3_600 }))).toBe(true);
    // An iat in the future cannot stretch the lifetime: it counts as now.
    expect(await refused(noJwks, await sign(secret, { iat: now() + 10 * 86_400, exp: now() + 10 * 86_400 + 60 }))).toBe(true);
    // A configured cap applies too.
    const claims = { iss: "https://id.riskinmind.test", aud: "keys-api" };
    expect(await accepted(checked, await sign(secret, { ...claims, exp: now() + 3_000 }))).toBe(true);
    expect(await refused(checked, await sign(secret, { ...claims, exp: now() + 3_900 }))).toBe(true);
  });

  test("the token cache keeps honouring the rules: a refused token stays refused when repeated", async () => {
    const long = await sign(secret, { exp: now() + 200_000 });
    for (let i = 0; i < 3; i++) expect(await refused(noJwks, long)).toBe(true);
    const good = await sign(secret);
    for (let i = 0; i < 3; i++) expect(await accepted(noJwks, good)).toBe(true);
  });
});

describe("issuer and audience, when set", () => {
  test("right iss and aud → accepted; wrong or missing iss/aud → 401", async () => {
    const ok = { iss: "https://id.riskinmind.test", aud: "keys-api" };
    expect(await accepted(checked, await sign(secret, ok))).toBe(true);
    expect(await refused(checked, await sign(secret, { ...ok, iss: "https://evil.test" }))).toBe(true);
    expect(await refused(checked, await sign(secret, { ...ok, aud: "another-api" }))).toBe(true);
    expect(await refused(checked, await sign(secret, { aud: "keys-api" }))).toBe(true);
    expect(await refused(checked, await sign(secret, { iss: ok.iss }))).toBe(true);
  });

  test("unset, iss and aud are not required", async () => {
    expect(await accepted(noJwks, await sign(secret, { iss: "anyone", aud: "anything" }))).toBe(true);
  });
});

describe("asymmetric tokens against a JWKS", () => {
  for (const alg of ALGS) {
    test(`${alg}: accepted from a JWKS file and from a JWKS URL`, async () => {
      const jwt = await sign(signers[alg], { sub: `owner-${alg}` });
      expect(await accepted(withFile, jwt)).toBe(true);
      expect(await accepted(withUrl, jwt)).toBe(true);
      expect(await accepted(noSecret, jwt)).toBe(true);
    });

    test(`${alg}: the right kid but signed by another key → 401 (file and URL)`, async () => {
      const jwt = await sign(impostors[alg], { sub: `owner-${alg}` });
      expect(await refused(withFile, jwt)).toBe(true);
      expect(await refused(withUrl, jwt)).toBe(true);
    });

    test(`${alg}: no JWKS configured → 401`, async () => {
      expect(await refused(noJwks, await sign(signers[alg]))).toBe(true);
    });

    test(`${alg}: exp still required and capped`, async () => {
      expect(await refused(withFile, await sign(signers[alg], { exp: null }))).toBe(true);
      expect(await refused(withFile, await sign(signers[alg], { exp: now() + 100_000 }))).toBe(true);
    });
  }

  test("an HS256 token when no secret is configured → 401, even one made with the old secret", async () => {
    expect(await refused(noSecret, await sign(secret))).toBe(true);
  });

  test("an HS256 token signed with the JWKS's public key material (algorithm confusion) → 401", async () => {
    const pem = new TextEncoder().encode(JSON.stringify(signers.RS256.jwk));
    const jwt = await new SignJWT({ sub: "confused", exp: now() + 600, iat: now() }).setProtectedHeader({ alg: "HS256", kid: signers.RS256.kid }).sign(pem);
    expect(await refused(withFile, jwt)).toBe(true);
    expect(await refused(noSecret, jwt)).toBe(true);
  });
});

describe("configuration", () => {
  const base = () => ({ ...serviceEnv({ url: "postgres://x@127.0.0.1/x" }, testTopology()), PORT: "0" });
  test("at least one of JWT_SECRET, JWT_JWKS_FILE, JWT_JWKS_URL is required", () => {
    const none = keysEnv.safeParse({ ...base(), JWT_SECRET: undefined });
    expect(none.success).toBe(false);
    expect(none.error!.issues[0]!.path).toEqual(["JWT_SECRET"]);
    expect(keysEnv.safeParse({ ...base(), JWT_SECRET: undefined, JWT_JWKS_URL: "https://id.example/jwks.json" }).success).toBe(true);
    expect(keysEnv.safeParse({ ...base(), JWT_SECRET: undefined, JWT_JWKS_FILE: jwksFile }).success).toBe(true);
  });

  test("an unreadable or keyless JWKS file is a config error naming JWT_JWKS_FILE", () => {
    const empty = join(dir, "empty.json");
    writeFileSync(empty, JSON.stringify({ keys: [] }));
    for (const path of [join(dir, "missing.json"), empty]) {
      const r = keysEnv.safeParse({ ...base(), JWT_JWKS_FILE: path });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(["JWT_JWKS_FILE"]);
    }
  });

  test("NODE_ENV=production with the development secret: the keys service exits 1 with one config error line", async () => {
    const e = { ...serviceEnv({ url: env.db.url }, env.topo), NODE_ENV: "production", JWT_SECRET: DEV_JWT_SECRET, PORT: "0" };
    const child = spawnChild(["bun", "services/keys/src/main.ts"], e);
    expect(await child.proc.exited).toBe(1);
    const lines = child.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("config error: JWT_SECRET:");
    expect(child.output()).not.toContain(DEV_JWT_SECRET);
    // Outside production the same secret is accepted by the parser (bun run dev uses it).
    expect(keysEnv.safeParse({ ...e, NODE_ENV: "development" }).success).toBe(true);
  });

  test("bun run token refuses a --ttl above the cap, and accepts one within it", async () => {
    const run = async (ttl: string, extra: Record<string, string> = {}) => {
      const c = spawnChild(["bun", "scripts/token.ts", "--sub", "t", "--ttl", ttl], { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", JWT_SECRET, ...extra });
      return { code: await c.proc.exited, out: c.output() };
    };
    const long = await run("7d");
    expect(long.code).toBe(1);
    expect(long.out).toContain("JWT_MAX_TTL_SECONDS");
    expect((await run("1d")).code).toBe(0);
    expect((await run("2h", { JWT_MAX_TTL_SECONDS: "3600" })).code).toBe(1);
    const ok = await run("30m", { JWT_MAX_TTL_SECONDS: "3600" });
    expect(ok.code).toBe(0);
    expect(await accepted(noJwks, ok.out.trim())).toBe(true);
  });
});
