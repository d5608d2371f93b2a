/** `bun run token`: a JWT the keys service accepts, signed with the configured secret. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { jwtVerify } from "jose";
import { DEV_JWT_SECRET } from "../../scripts/lib/dev-secret";
import { parseTtl } from "../../scripts/lib/jwt";

const ROOT = join(import.meta.dir, "../..");
const SECRET = "devx-token-test-secret-0123456789abcdef";

async function runToken(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn(["bun", "scripts/token.ts", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout: stdout.trim(), stderr, code };
}

const verify = (jwt: string, secret: string) => jwtVerify(jwt, new TextEncoder().encode(secret), { algorithms: ["HS256"] });

describe("bun run token", () => {
  test("signs an HS256 token with JWT_SECRET carrying sub and an exp of now + ttl", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await runToken(["--sub", "owner-42", "--ttl", "15m"], { JWT_SECRET: SECRET });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("warning");
    const { payload, protectedHeader } = await verify(r.stdout, SECRET);
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload.sub).toBe("owner-42");
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.iat!).toBeGreaterThanOrEqual(before);
  });

  test("without JWT_SECRET signs with the development secret and warns on stderr", async () => {
    const r = await runToken(["--sub", "dev-owner"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("JWT_SECRET is not set");
    const { payload } = await verify(r.stdout, DEV_JWT_SECRET);
    expect(payload.sub).toBe("dev-owner");
    expect(payload.exp! - payload.iat!).toBe(3600);
    await expect(verify(r.stdout, SECRET)).rejects.toThrow();
  });

  test("refuses the development secret when NODE_ENV=production", async () => {
    const r = await runToken(["--sub", "x"], { NODE_ENV: "production" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("JWT_SECRET is required");
  });

  test("refuses a missing --sub and a malformed --ttl with a usage line", async () => {
    const noSub = await runToken([], { JWT_SECRET: SECRET });
    expect(noSub.code).toBe(1);
    expect(noSub.stderr).toContain("--sub is required");
    const badTtl = await runToken(["--sub", "a", "--ttl", "5 years"], { JWT_SECRET: SECRET });
    expect(badTtl.code).toBe(1);
    expect(badTtl.stderr).toContain("--ttl must look like");
    expect(badTtl.stdout).toBe("");
  });

  test("TTLs are read as seconds, minutes, hours and days", () => {
    expect(parseTtl("30s")).toBe(30);
    expect(parseTtl("15m")).toBe(900);
    expect(parseTtl("1h")).toBe(3600);
    expect(parseTtl("7d")).toBe(604_800);
    expect(parseTtl("0h")).toBeUndefined();
    expect(parseTtl("1w")).toBeUndefined();
    expect(parseTtl("-1h")).toBeUndefined();
  });
});
