/**
 * Bad input to /api/v1/keys/webhooks: a 4xx in the error envelope, and
 * nothing changes. Another owner's endpoint is 404, as an unknown one.
 */
import { describe, expect, test } from "bun:test";
import { WEBHOOK_LIMITS } from "@riskinmind/contracts";
import { authHeader, newOwner, token, unsignedToken, useKeysStack, type Owner, type Reply } from "@riskinmind/testkit";
import { deliveries, FAST_WEBHOOKS, register } from "./helpers";

const env = useKeysStack(FAST_WEBHOOKS);
const URL_OK = "http://127.0.0.1:9/hook";

const list = async (o: Owner) => (await env.a.call("GET", "/api/v1/keys/webhooks", { headers: o.headers })).body.data;

function expectError(r: Reply, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toMatchObject({ success: false, error: { code } });
  expect(typeof r.body.error.message).toBe("string");
}

describe("register: 400 VALIDATION_ERROR, nothing stored", () => {
  const bad: [string, unknown][] = [
    ["no url", { events: ["key.created"] }],
    ["not a URL", { url: "not a url", events: ["key.created"] }],
    ["relative URL", { url: "/hook", events: ["key.created"] }],
    ["ftp scheme", { url: "ftp://127.0.0.1/hook", events: ["key.created"] }],
    ["javascript scheme", { url: "javascript:alert(1)", events: ["key.created"] }],
    ["credentials in the URL", { url: "http://user:pw@127.0.0.1:9/hook", events: ["key.created"] }],
    ["a fragment", { url: "http://127.0.0.1:9/hook#x", events: ["key.created"] }],
    ["URL too long", { url: `http://127.0.0.1:9/${"a".repeat(WEBHOOK_LIMITS.urlMaxLength)}`, events: ["key.created"] }],
    ["url not a string", { url: 42, events: ["key.created"] }],
    ["no events", { url: URL_OK }],
    ["empty events", { url: URL_OK, events: [] }],
    ["unknown event type", { url: URL_OK, events: ["key.deleted"] }],
    ["event type of the wrong case", { url: URL_OK, events: ["KEY.CREATED"] }],
    ["duplicate event types", { url: URL_OK, events: ["key.created", "key.created"] }],
    ['"*" with another type', { url: URL_OK, events: ["*", "key.created"] }],
    ["events not an array", { url: URL_OK, events: "key.created" }],
    ["description too long", { url: URL_OK, events: ["key.created"], description: "d".repeat(WEBHOOK_LIMITS.descriptionMaxLength + 1) }],
    ["description with NUL", { url: URL_OK, events: ["key.created"], description: "a\u0000b" }],
    ["unknown mode", { url: URL_OK, events: ["key.created"], mode: "staging" }],
    ["unknown field", { url: URL_OK, events: ["key.created"], secret: "whsec_mine" }],
    ["JSON null", null],
    ["a JSON array", [URL_OK]],
  ];
  for (const [name, body] of bad) {
    test(name, async () => {
      const o = await newOwner();
      const r = await env.a.call("POST", "/api/v1/keys/webhooks", { headers: o.headers, json: body });
      expectError(r, 400, "VALIDATION_ERROR");
      expect(await list(o)).toEqual([]);
    });
  }

  test("no body and malformed JSON", async () => {
    const o = await newOwner();
    expect((await env.a.call("POST", "/api/v1/keys/webhooks", { headers: o.headers })).status).toBe(400);
    const r = await env.a.call("POST", "/api/v1/keys/webhooks", { headers: { ...o.headers, "content-type": "application/json" }, body: "{" });
    expect(r.status).toBe(400);
    expect(r.body.success).toBe(false);
    expect(await list(o)).toEqual([]);
  });

  test(`at most ${WEBHOOK_LIMITS.endpointsPerOwner} endpoints per owner; a deleted one frees its place`, async () => {
    const o = await newOwner();
    const ids: string[] = [];
    for (let i = 0; i < WEBHOOK_LIMITS.endpointsPerOwner; i++) {
      const r = await register(env.a, o, { url: `${URL_OK}/${i}`, events: ["*"] });
      expect(r.status).toBe(201);
      ids.push(r.body.data.id);
    }
    const over = await register(env.a, o, { url: `${URL_OK}/over`, events: ["*"] });
    expectError(over, 400, "VALIDATION_ERROR");
    expect(over.body.error.message).toContain(String(WEBHOOK_LIMITS.endpointsPerOwner));
    expect(await list(o)).toHaveLength(WEBHOOK_LIMITS.endpointsPerOwner);
    // Another owner is not affected by this one's count.
    expect((await register(env.a, await newOwner(), { url: URL_OK, events: ["*"] })).status).toBe(201);
    expect((await env.a.call("DELETE", `/api/v1/keys/webhooks/${ids[0]}`, { headers: o.headers })).status).toBe(200);
    expect((await register(env.a, o, { url: `${URL_OK}/again`, events: ["*"] })).status).toBe(201);
  });

  test("concurrent registrations cannot pass the limit together", async () => {
    const o = await newOwner();
    const all = await Promise.all(Array.from({ length: WEBHOOK_LIMITS.endpointsPerOwner + 5 }, (_, i) => register(env.a, o, { url: `${URL_OK}/${i}`, events: ["*"] })));
    expect(all.filter((r) => r.status === 201)).toHaveLength(WEBHOOK_LIMITS.endpointsPerOwner);
    expect(all.filter((r) => r.status === 400)).toHaveLength(5);
    expect(await list(o)).toHaveLength(WEBHOOK_LIMITS.endpointsPerOwner);
  });
});

describe("ids and paging", () => {
  test("another owner's endpoint: 404 on delete and on its deliveries, and it stays", async () => {
    const [o, intruder] = [await newOwner(), await newOwner()];
    const id = (await register(env.a, o, { url: URL_OK, events: ["*"] })).body.data.id;
    expectError(await env.a.call("DELETE", `/api/v1/keys/webhooks/${id}`, { headers: intruder.headers }), 404, "NOT_FOUND");
    expectError(await deliveries(env.a, intruder, id), 404, "NOT_FOUND");
    expect((await list(o)).map((w: { id: string }) => w.id)).toEqual([id]);
    expect(await list(intruder)).toEqual([]);
  });

  test("unknown and deleted ids are 404", async () => {
    const o = await newOwner();
    expectError(await env.a.call("DELETE", "/api/v1/keys/webhooks/wh_nope", { headers: o.headers }), 404, "NOT_FOUND");
    expectError(await deliveries(env.a, o, "wh_nope"), 404, "NOT_FOUND");
    const id = (await register(env.a, o, { url: URL_OK, events: ["*"] })).body.data.id;
    await env.a.call("DELETE", `/api/v1/keys/webhooks/${id}`, { headers: o.headers });
    expectError(await deliveries(env.a, o, id), 404, "NOT_FOUND");
  });

  test("an id longer than any we give is 400", async () => {
    const o = await newOwner();
    expectError(await env.a.call("DELETE", `/api/v1/keys/webhooks/${"x".repeat(65)}`, { headers: o.headers }), 400, "VALIDATION_ERROR");
  });

  test("bad limit or cursor: 400", async () => {
    const o = await newOwner();
    const id = (await register(env.a, o, { url: URL_OK, events: ["*"] })).body.data.id;
    for (const q of ["?limit=0", "?limit=101", "?limit=abc", "?limit=1e2", "?cursor=nope", `?cursor=${Buffer.from("d:-1").toString("base64url")}`]) {
      expectError(await deliveries(env.a, o, id, q), 400, "VALIDATION_ERROR");
    }
    expect((await deliveries(env.a, o, id, "?limit=100")).status).toBe(200);
  });
});

describe("authentication", () => {
  test("every route needs a JWT", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1/keys/webhooks"],
      ["POST", "/api/v1/keys/webhooks"],
      ["DELETE", "/api/v1/keys/webhooks/wh_x"],
      ["GET", "/api/v1/keys/webhooks/wh_x/deliveries"],
    ] as const) {
      const r = await env.a.call(method, path, method === "POST" ? { json: { url: URL_OK, events: ["*"] } } : {});
      expectError(r, 401, "UNAUTHORIZED");
    }
  });

  test("a bad token (expired, wrong secret, unsigned) is 401 and registers nothing for its subject", async () => {
    const o = await newOwner();
    const exp = Math.floor(Date.now() / 1000) + 600;
    for (const headers of [
      authHeader(await token(o.sub, { expSeconds: -5 })),
      authHeader(await token(o.sub, { secret: "wrong-secret-that-is-long-enough-00000000" })),
      authHeader(unsignedToken({ sub: o.sub, exp })),
    ]) {
      expectError(await env.a.call("POST", "/api/v1/keys/webhooks", { headers, json: { url: URL_OK, events: ["*"] } }), 401, "UNAUTHORIZED");
      expectError(await env.a.call("GET", "/api/v1/keys/webhooks", { headers }), 401, "UNAUTHORIZED");
    }
    expect(await list(o)).toEqual([]);
  });
});
