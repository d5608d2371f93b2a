/**
 * What the README promises about bodies, held: a body, when sent, must be a
 * JSON object (JSON `null` is 400, not "no body"), and /revoke takes no
 * fields (anything but no body or `{}` is 400). Nothing changes on a refusal.
 */
import { describe, expect, test } from "bun:test";
import { useKeysStack, newOwner, issueKey } from "@riskinmind/testkit";

const env = useKeysStack();

const json = (headers: Record<string, string>) => ({ ...headers, "content-type": "application/json" });
const active = async (sub: string) => (await env.sql`select id from keys.api_keys where owner_id = ${sub} and status = 'ACTIVE'`).map((r) => r.id as string);

describe("a JSON null body", () => {
  for (const path of ["/api/v1/keys/generate", "/api/v1/keys/regenerate", "/api/v1/keys/revoke"]) {
    test(`${path} with null → 400 VALIDATION_ERROR, nothing changed`, async () => {
      const o = await newOwner("null");
      const key = path.endsWith("generate") && !path.endsWith("regenerate") ? undefined : (await issueKey(env.a, o)).keyId;
      const r = await env.a.call("POST", path, { headers: json(o.headers), body: "null" });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: "VALIDATION_ERROR" });
      expect(r.body.error.message).toContain("must be a JSON object");
      expect(await active(o.sub)).toEqual(key ? [key] : []);
    });
  }
});

describe("/revoke takes no fields", () => {
  const refused = ['{"keyId":"key_x"}', '{"label":"x"}', "[]", "42", '"x"', "true"];
  for (const body of refused) {
    test(`body ${body} → 400 VALIDATION_ERROR and the key stays active`, async () => {
      const o = await newOwner("rv");
      const key = (await issueKey(env.a, o)).keyId;
      const r = await env.a.call("POST", "/api/v1/keys/revoke", { headers: json(o.headers), body });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: "VALIDATION_ERROR" });
      expect(await active(o.sub)).toEqual([key]);
    });
  }

  test("no body and {} both revoke", async () => {
    for (const body of [undefined, "{}"]) {
      const o = await newOwner("rv");
      await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
      const r = await env.a.call("POST", "/api/v1/keys/revoke", { headers: body === undefined ? o.headers : json(o.headers), body });
      expect(r.status).toBe(200);
      expect(await active(o.sub)).toEqual([]);
    }
  });
});
