/**
 * Leak reports that must change nothing: unsigned, signed by an unknown or
 * another key, tampered after signing (401); signed but not a report (400);
 * too large (413); and a service with no reporter keys refuses every report.
 * After each, the live key still verifies and no key was revoked. Bad
 * LEAK_REPORT_PUBLIC_KEYS stops the service at start.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "bun:test";
import { isEnvelope, issueKey, newOwner, rawRequest, useKeysStack } from "@riskinmind/testkit";
import { keysEnv } from "../../services/keys/src/env";
import { LEAKS, newReporter, postReport, reportKeysEnv, reportOf, signBody } from "./helpers";

const github = newReporter();
const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000", LEAK_REPORT_PUBLIC_KEYS: reportKeysEnv(github) });

let live: { apiKey: string; keyId: string } | undefined;
async function liveKey() {
  live ??= await issueKey(env.a, await newOwner("victim"));
  return live;
}

/** The live key is untouched: still valid over NATS, no revocation, no leak audit entry. */
async function nothingRevoked() {
  const k = await liveKey();
  expect(await env.verify(k.apiKey)).toMatchObject({ valid: true, keyId: k.keyId });
  expect((await env.sql`select count(*)::int as n from keys.api_keys where status <> 'ACTIVE'`)[0]!.n).toBe(0);
  expect((await env.sql`select count(*)::int as n from keys.audit_log where action = 'key.leak_revoked'`)[0]!.n).toBe(0);
}

const expectError = (r: { status: number; body: unknown }, status: number, code: string) => {
  expect(r.status).toBe(status);
  expect(isEnvelope(r.body)).toBe(true);
  expect(r.body).toMatchObject({ success: false, error: { code } });
};

describe("401 and nothing revoked", () => {
  const cases: [string, (body: string) => Record<string, string>][] = [
    ["no signature headers", () => ({})],
    ["an identifier but no signature", () => ({ "github-public-key-identifier": github.id })],
    ["a signature but no identifier", (b) => ({ "github-public-key-signature": signBody(github, b) })],
    [
      "an unknown identifier (signed by its own key)",
      (b) => {
        const other = newReporter();
        return { "github-public-key-identifier": other.id, "github-public-key-signature": signBody(other, b) };
      },
    ],
    ["a known identifier, signed by another key", (b) => ({ "github-public-key-identifier": github.id, "github-public-key-signature": signBody(newReporter(), b) })],
    ["a signature that is not base64 DER", () => ({ "github-public-key-identifier": github.id, "github-public-key-signature": "bm90IGEgc2lnbmF0dXJl" })],
    ["an identifier that is an Object property name", (b) => ({ "github-public-key-identifier": "__proto__", "github-public-key-signature": signBody(github, b) })],
  ];
  for (const [name, headers] of cases) {
    test(name, async () => {
      const k = await liveKey();
      const body = reportOf([k.apiKey]);
      expectError(await postReport(env.a, body, null, headers(body)), 401, "UNAUTHORIZED");
      await nothingRevoked();
    });
  }

  test("a tampered body: signed, then one byte changed", async () => {
    const k = await liveKey();
    const signed = reportOf([k.apiKey]);
    const sent = signed.replace("content", "Content");
    expect(sent).not.toBe(signed);
    const headers = { "github-public-key-identifier": github.id, "github-public-key-signature": signBody(github, signed) };
    expectError(await postReport(env.a, sent, null, headers), 401, "UNAUTHORIZED");
    await nothingRevoked();
  });

  test("the signature covers the exact bytes: the same JSON re-serialised with other whitespace is refused", async () => {
    const k = await liveKey();
    const signed = reportOf([k.apiKey]);
    const sent = JSON.stringify(JSON.parse(signed), null, 2);
    const headers = { "github-public-key-identifier": github.id, "github-public-key-signature": signBody(github, signed) };
    expectError(await postReport(env.a, sent, null, headers), 401, "UNAUTHORIZED");
    await nothingRevoked();
  });

  test("an unsigned report is refused before its body is read: 401 to a body announced and never sent", async () => {
    // Were the body awaited, this would be a 408 after BODY_TIMEOUT_MS (10 s), not a 401.
    const port = Number(new URL(env.a.url).port);
    const r = await rawRequest(port, `POST ${LEAKS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: "UNAUTHORIZED" } });
  });

  test("no body at all", async () => {
    const r = await env.a.call("POST", LEAKS, { headers: { "github-public-key-identifier": github.id, "github-public-key-signature": signBody(github, "") } });
    expect(r.status).toBe(400);
    await nothingRevoked();
  });

  test("a JWT is no substitute for the signature, and the exemption does not open other routes", async () => {
    const k = await liveKey();
    const owner = await newOwner();
    expectError(await postReport(env.a, reportOf([k.apiKey]), null, owner.headers), 401, "UNAUTHORIZED");
    // An anonymous body to a JWT route is still refused before its body is read.
    expectError(await env.a.call("POST", "/api/v1/keys/generate", { json: { label: 1 } }), 401, "UNAUTHORIZED");
    await nothingRevoked();
  });

  test("a service with no reporter keys refuses a well-signed report", async () => {
    const bare = await env.start({});
    const k = await liveKey();
    expectError(await postReport(bare, reportOf([k.apiKey]), github), 401, "UNAUTHORIZED");
    await nothingRevoked();
  });
});

describe("signed, but not a report: 400 and nothing revoked", () => {
  const cases: [string, () => Promise<string | Uint8Array>, string][] = [
    ["not JSON", async () => `[{"token": "${(await liveKey()).apiKey}"`, "MALFORMED_JSON"],
    ["not UTF-8", async () => new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]), "MALFORMED_JSON"],
    ["an object, not an array", async () => JSON.stringify({ token: (await liveKey()).apiKey, type: "t", url: "u", source: "s" }), "VALIDATION_ERROR"],
    ["a match without its token", async () => JSON.stringify([{ type: "t", url: "u", source: "s" }]), "VALIDATION_ERROR"],
    ["a token that is a number", async () => JSON.stringify([{ token: 42, type: "t", url: "u", source: "s" }]), "VALIDATION_ERROR"],
    [
      "a valid match beside an invalid one",
      async () =>
        JSON.stringify([
          { token: (await liveKey()).apiKey, type: "t", url: "u", source: "s" },
          { token: "x", type: "t", url: 5, source: "s" },
        ]),
      "VALIDATION_ERROR",
    ],
    ["1,001 matches", async () => reportOf(Array.from({ length: 1001 }, (_, i) => (i === 0 ? live!.apiKey : `token-${i}`))), "VALIDATION_ERROR"],
  ];
  for (const [name, make, code] of cases) {
    test(name, async () => {
      await liveKey();
      const body = await make();
      const headers = { "content-type": "application/json", "github-public-key-identifier": github.id, "github-public-key-signature": signBody(github, body) };
      const r = await env.a.call("POST", LEAKS, { headers, body });
      expectError(r, 400, code);
      await nothingRevoked();
    });
  }

  test("1,000 matches are accepted (the bound is inclusive)", async () => {
    const body = reportOf(Array.from({ length: 1000 }, (_, i) => `token-${i}`));
    const r = await postReport(env.a, body, github);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(1000);
    await nothingRevoked();
  });

  test("a body over 1 MiB: 413", async () => {
    const k = await liveKey();
    const body = JSON.stringify([{ token: k.apiKey, type: "t", url: "u".repeat(1024 * 1024), source: "s" }]);
    const r = await postReport(env.a, body, github);
    expectError(r, 413, "PAYLOAD_TOO_LARGE");
    await nothingRevoked();
  });
});

describe("LEAK_REPORT_PUBLIC_KEYS is checked at start", () => {
  const base = { DATABASE_URL: "postgres://keys@127.0.0.1:5432/keys", NATS_URL: "nats://keys:pw@127.0.0.1:4222", JWT_SECRET: "a-test-secret-of-at-least-32-chars!" };
  const verdict = (v: string) => {
    const r = keysEnv.safeParse({ ...base, LEAK_REPORT_PUBLIC_KEYS: v });
    return r.success ? "ok" : `${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`;
  };
  test("good keys and an empty value are accepted", () => {
    expect(verdict(reportKeysEnv(newReporter("a"), newReporter("b")))).toBe("ok");
    expect(verdict("")).toBe("ok");
    const c = keysEnv.parse({ ...base, LEAK_REPORT_PUBLIC_KEYS: reportKeysEnv(newReporter("k1")) });
    expect([...c.LEAK_REPORT_PUBLIC_KEYS.keys()]).toEqual(["k1"]);
  });
  test("refused: not JSON, an array, a key that is not PEM, an RSA key; the reason never quotes the key", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(verdict("{not json")).toMatch(/^LEAK_REPORT_PUBLIC_KEYS: must be a JSON object/);
    expect(verdict("[]")).toMatch(/^LEAK_REPORT_PUBLIC_KEYS: must be a JSON object/);
    expect(verdict(JSON.stringify({ k: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }))).toBe('LEAK_REPORT_PUBLIC_KEYS: key "k" is not a PEM public key');
    expect(verdict(JSON.stringify({ k: rsa }))).toBe('LEAK_REPORT_PUBLIC_KEYS: key "k" must be an ECDSA (EC) public key');
    expect(verdict(JSON.stringify({ k: 5 }))).toMatch(/must be a non-empty identifier with a PEM string/);
  });
});
