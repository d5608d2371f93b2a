/**
 * Text that Postgres would store as something else is refused at the edge:
 * a JWT `sub` with a lone surrogate (Postgres turns it into U+FFFD, which
 * merged `victim\ud800`, `victim\udbff` and `victim\ufffd` into one owner)
 * is a 401, and a label with NUL or a lone surrogate is a 400 VALIDATION_ERROR.
 */
import { describe, expect, test } from "bun:test";
import { authHeader, useKeysStack, newOwner, token } from "@riskinmind/testkit";

const env = useKeysStack();

const raw = (label: string) => `{"label":"${label}"}`;
const post = (path: string, headers: Record<string, string>, body?: string) =>
  env.a.call("POST", path, { headers: body === undefined ? headers : { ...headers, "content-type": "application/json" }, body });
const activeKeys = async (sub: string) => (await env.sql`select id from keys.api_keys where owner_id = ${sub} and status = 'ACTIVE'`).map((r) => r.id as string);

describe("owners that Postgres would merge", () => {
  test("victim\\ud800 and victim\\udbff get 401 on every route and cannot touch victim's or victim\\ufffd's key", async () => {
    const base = `victim_${Math.random().toString(36).slice(2, 8)}`;
    const victim = authHeader(await token(base));
    const replacement = authHeader(await token(`${base}\ufffd`));
    const v = await post("/api/v1/keys/generate", victim);
    const r = await post("/api/v1/keys/generate", replacement);
    // U+FFFD itself is well-formed: a legitimate, distinct owner.
    expect([v.status, r.status]).toEqual([201, 201]);
    expect(v.body.data.keyId).not.toBe(r.body.data.keyId);

    for (const lone of ["\ud800", "\udbff", "\udc00"]) {
      const attacker = authHeader(await token(`${base}${lone}`));
      for (const [method, path] of [
        ["GET", "/api/v1/keys/"],
        ["GET", "/api/v1/keys/logs"],
        ["POST", "/api/v1/keys/generate"],
        ["POST", "/api/v1/keys/regenerate"],
        ["POST", "/api/v1/keys/revoke"],
      ] as const) {
        const res = await env.a.call(method, path, { headers: attacker });
        expect({ lone: escape(lone), path, status: res.status, code: res.body.error?.code }).toEqual({ lone: escape(lone), path, status: 401, code: "UNAUTHORIZED" });
      }
    }
    expect(await activeKeys(base)).toEqual([v.body.data.keyId]);
    expect(await activeKeys(`${base}\ufffd`)).toEqual([r.body.data.keyId]);
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: victim })).body.data.keyId).toBe(v.body.data.keyId);
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: replacement })).body.data.keyId).toBe(r.body.data.keyId);
  });

  test("a sub with NUL is 401", async () => {
    const res = await env.a.call("GET", "/api/v1/keys/", { headers: authHeader(await token("nul\u0000owner")) });
    expect(res.status).toBe(401);
  });
});

describe("labels Postgres cannot store as sent", () => {
  const bad: [string, string][] = [
    ["NUL", "a\\u0000"],
    ["a lone high surrogate", "a\\ud800"],
    ["a lone low surrogate", "\\udfffb"],
    ["a reversed pair", "\\udc00\\ud800"],
  ];
  for (const [what, label] of bad) {
    test(`generate and regenerate with ${what} in the label → 400 VALIDATION_ERROR, nothing written`, async () => {
      const o = await newOwner("label");
      const g = await post("/api/v1/keys/generate", o.headers, raw(label));
      expect({ status: g.status, code: g.body.error?.code }).toEqual({ status: 400, code: "VALIDATION_ERROR" });
      expect(await activeKeys(o.sub)).toEqual([]);
      const first = (await post("/api/v1/keys/generate", o.headers)).body.data.keyId;
      const rg = await post("/api/v1/keys/regenerate", o.headers, raw(label));
      expect({ status: rg.status, code: rg.body.error?.code }).toEqual({ status: 400, code: "VALIDATION_ERROR" });
      expect(await activeKeys(o.sub)).toEqual([first]);
    });
  }

  test("a well-formed non-ASCII label (a real surrogate pair, U+FFFD) is stored as sent", async () => {
    const o = await newOwner("label");
    const g = await post("/api/v1/keys/generate", o.headers, raw("prod \\ud83d\\ude80 \\ufffd é"));
    expect(g.status).toBe(201);
    expect(g.body.data.label).toBe("prod \u{1F680} \ufffd é");
  });
});
