/**
 * Inputs the HTTP fuzz found, pinned one by one so each keeps its own name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deploy, type Deployment, isEnvelope, issueKey, newOwner, rawRequest, req } from "@riskinmind/testkit";

let d: Deployment;
beforeAll(async () => {
  d = await deploy({ services: ["keys"] });
});
afterAll(async () => {
  await d?.close();
});

const post = (path: string, headers: Record<string, string>, body: string) =>
  req(`${d.keys!.url}/api/v1/keys/${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });

describe("HTTP fuzz findings", () => {
  test('a non-object JSON body (42, true, "x", [], 1e999) on generate/regenerate is 400 and rotates nothing', async () => {
    const owner = await newOwner("nonobj");
    const key = await issueKey(d.keys!, owner);
    for (const path of ["generate", "regenerate"]) {
      for (const body of ["42", "true", '"x"', "[]", "1e999", "-0"]) {
        const r = await post(path, owner.headers, body);
        expect({ path, body, status: r.status, code: r.body?.error?.code }).toEqual({ path, body, status: 400, code: "VALIDATION_ERROR" });
      }
    }
    expect((await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers })).body.data.keyId).toBe(key.keyId);
  });

  test('a label object carrying a "toString" field is refused with 400 VALIDATION_ERROR, not a 500', async () => {
    const owner = await newOwner("tostring");
    for (const path of ["generate", "regenerate"]) {
      for (const body of ['{"label":{"toString":1}}', '{"label":{"toString":"x"}}']) {
        const r = await post(path, owner.headers, body);
        expect({ path, body, status: r.status, envelope: isEnvelope(r.body), code: r.body?.error?.code }).toEqual({ path, body, status: 400, envelope: true, code: "VALIDATION_ERROR" });
      }
    }
    const [n] = await d.sql`select count(*)::int as n from keys.api_keys where owner_id = ${owner.sub}`;
    expect(n!.n).toBe(0);
  });

  test('{"label":"a\\u0000"} on generate or regenerate is 400 VALIDATION_ERROR, not a 500', async () => {
    const owner = await newOwner("nul");
    for (const path of ["generate", "regenerate"]) {
      const r = await post(path, owner.headers, '{"label":"a\\u0000"}');
      expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status: 400, code: "VALIDATION_ERROR" });
    }
    const [n] = await d.sql`select count(*)::int as n from keys.api_keys where owner_id = ${owner.sub}`;
    expect(n!.n).toBe(0);
  });

  test("Host: x no longer moves routing (GET /api/metrics served /metrics)", async () => {
    const r = await rawRequest(d.keys!.port, "GET /api/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect({ status: r.status, code: JSON.parse(r.body).error?.code }).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(r.body).not.toContain("# TYPE");
  });

  test("HTTP/1.0 without Host, or a Host with [ @ / é or port 99999, is never a 500", async () => {
    for (const host of [null, "", "[", "a@b", "a/b", "é", "localhost:99999"]) {
      for (const path of ["/health", "/api/v1/keys/", "/x/y"]) {
        const r = await rawRequest(d.keys!.port, `GET ${path} HTTP/1.0\r\n${host === null ? "" : `Host: ${host}\r\n`}\r\n`);
        expect({ host, path, serverError: r.status >= 500 }).toEqual({ host, path, serverError: false });
      }
    }
  });
});
