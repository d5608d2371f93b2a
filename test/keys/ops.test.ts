import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { treaty } from "@elysiajs/eden";
import type { KeysApp } from "../../services/keys/src/app";
import { useKeysStack, newOwner, issueKey } from "@riskinmind/testkit";

const env = useKeysStack();

describe("operations endpoints (no JWT)", () => {
  test("GET /health → 200 {status:'ok',service:'keys'}", async () => {
    const r = await env.a.call("GET", "/health");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok", service: "keys" });
  });

  test("GET /ready → 200 while Postgres and NATS are reachable", async () => {
    const r = await env.a.call("GET", "/ready");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ready", checks: { postgres: "up", nats: "up" } });
  });

  test("GET /metrics is Prometheus text with HTTP and keys.verify series by result", async () => {
    const o = await newOwner();
    const k = await issueKey(env.a, o);
    await env.verify(k.apiKey);
    await env.verify(undefined, JSON.stringify({ keyHash: "junk" }));
    const res = await fetch(env.a.url + "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/keys_verify_total\{result="valid"[^}]*\} [1-9]/);
    expect(text).toMatch(/keys_verify_total\{result="MALFORMED"[^}]*\} [1-9]/);
    expect(text).toContain("keys_verify_duration_seconds_bucket");
    expect(text).toContain("http_requests_total");
    expect(text).not.toContain(k.apiKey);
  });
});

describe("OpenAPI document", () => {
  test("/openapi.json is a valid OpenAPI document listing every route with its error responses and bearer security", async () => {
    const doc = (await env.a.call("GET", "/openapi.json")).body;
    const v = new Validator();
    const result = await v.validate(doc);
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 2).slice(0, 3000));
    expect(result.valid).toBe(true);
    const paths = doc.paths as Record<string, Record<string, any>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(["/api/v1/keys/", "/api/v1/keys", "/api/v1/keys/generate", "/api/v1/keys/regenerate", "/api/v1/keys/revoke", "/api/v1/keys/logs", "/health", "/ready", "/metrics"]),
    );
    expect(Object.keys(paths["/api/v1/keys/generate"]!.post.responses).sort()).toEqual(["201", "400", "401", "408", "409", "413", "415", "429", "503"]);
    expect(Object.keys(paths["/api/v1/keys/revoke"]!.post.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404", "408", "429", "503"]));
    expect(Object.keys(paths["/api/v1/keys/logs"]!.get.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "429", "503"]));
    expect(Object.keys(paths["/api/v1/keys/"]!.get.responses)).toEqual(expect.arrayContaining(["200", "401", "404", "429", "503"]));
    expect(paths["/api/v1/keys/"]!.get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  test("the documented error envelope carries requestId and only the codes some path produces", async () => {
    const doc = (await env.a.call("GET", "/openapi.json")).body;
    const envelope = doc.paths["/api/v1/keys/generate"].post.responses["401"].content["application/json"].schema;
    const error = envelope.properties.error;
    expect(error.required).toEqual(expect.arrayContaining(["code", "message", "requestId"]));
    expect(error.properties.requestId.type).toBe("string");
    const codes = error.properties.code.enum as string[];
    expect(codes).toEqual(expect.arrayContaining(["UNAUTHORIZED", "NOT_FOUND", "RATE_LIMITED", "INTERNAL"]));
    expect(codes).not.toContain("FORBIDDEN");
    expect(codes).not.toContain("METHOD_NOT_ALLOWED");
  });

  test("/docs serves an HTML page", async () => {
    const res = await fetch(env.a.url + "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
  });
});

describe("typed client", () => {
  test("an eden treaty client generates a key and reads it back", async () => {
    const o = await newOwner();
    const api = treaty<KeysApp>(env.a.url, { headers: o.headers });
    const g = await api.api.v1.keys.generate.post({ label: "from eden" });
    expect(g.status).toBe(201);
    const issued = g.data!.data;
    expect(issued.label).toBe("from eden");
    const c = await api.api.v1.keys.get();
    expect(c.status).toBe(200);
    expect(c.data!.data.keyId).toBe(issued.keyId);
    expect(c.data!.data.keySnippet).toBe(issued.keySnippet);
  });
});
